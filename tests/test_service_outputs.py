"""The output use cases without the CLI: analyze, match, export (bag and hash list), report.

Two examiners, each with their own session and case, work in one process, interleaved: each
case ends up with only its own examiner's entries, verifies clean, and the results'
``as_dict()`` are the documented ``--json`` documents. The last tests hold the key policy at
the command line: ``match --within`` and ``export`` never create an examiner key.
"""

from __future__ import annotations

import csv
import json
from dataclasses import FrozenInstanceError
from pathlib import Path

import pytest

from forensic.analysis.errors import AnalysisUsageError
from forensic.capture import capture_paths
from forensic.case import Case
from forensic.demo import generate_media
from forensic.errors import KeyringError
from forensic.media.matching import MediaAvUsageError
from forensic.report.errors import ReportUsageError
from forensic.service.analysis import analyze, select_items
from forensic.service.exporting import export_bag, export_hash_list
from forensic.service.matching import DEFAULT_THRESHOLD, find_matches
from forensic.service.reporting import choose_tsa, create_report
from forensic.session import Session
from forensic.verify import verify_case
from tests.casetools import log_entries
from tests.conftest import PASSPHRASE, Cli


def _session(home: Path) -> Session:
    return Session(home=home, passphrase_provider=lambda _new: PASSPHRASE)


def _case(tmp_path: Path, name: str) -> tuple[Session, Path, Path]:
    """A session with its own examiner key and a case holding generated media."""
    session = _session(tmp_path / f"{name}-home")
    key, created = session.unlock_or_create()
    assert created
    root = tmp_path / f"{name}-case"
    Case.init(
        root,
        case_id=f"{name.upper()}-1",
        title=f"Case of {name}",
        examiner=name,
        organisation=None,
        lang="en",
        key=key,
        session=session,
    )
    media = generate_media(tmp_path / f"{name}-media")
    capture_paths(Case.open(root, session), key, [bytes(media)])
    return session, root, media


@pytest.fixture
def two_cases(tmp_path: Path) -> tuple[tuple[Session, Path, Path], tuple[Session, Path, Path]]:
    return _case(tmp_path, "kim"), _case(tmp_path, "lee")


def _actions(root: Path) -> list[str]:
    return [e["action"] for e in log_entries(root)]


def _intact(session: Session, root: Path) -> bool:
    return verify_case(Case.open(root, session)).intact


def test_two_sessions_two_cases_interleaved(
    two_cases: tuple[tuple[Session, Path, Path], tuple[Session, Path, Path]], tmp_path: Path
) -> None:
    (kim, kim_case, kim_media), (lee, lee_case, _lee_media) = two_cases
    photo = kim_media / "chat-export" / "photos" / "photo_002.png"
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"\xff\xd8\xff\xe0 truncated")

    described = analyze(kim, metadata=True, all_items=True, case_dir=kim_case)
    with pytest.raises(MediaAvUsageError) as refused:  # a broken query: nothing searched, logged
        find_matches(lee, [photo, broken], within=True, case_dir=lee_case)
    assert refused.value.key == "query_not_image" and "match" not in _actions(lee_case)
    matched = find_matches(lee, [photo], within=True, case_dir=lee_case)
    target = tmp_path / "takedown.csv"
    listed = export_hash_list(kim, target, case_dir=kim_case)
    [item] = [i for i, n in matched.names.items() if n == "photo_002.png"]
    detected = analyze(lee, [item[:12]], detect=True, case_dir=lee_case)
    bag = export_bag(kim, tmp_path / "kim-bag", case_dir=kim_case)

    # analyze --metadata: every item described, the document as `analyze --json` had it
    doc = described.as_dict()
    assert doc["ok"] is True and doc["recovered"] is None and "analysis" not in doc
    assert len(doc["metadata"]) == len(Case.open(kim_case, kim).items())
    assert {"seq", "record"} == set(doc["metadata"][0])
    # analyze --detect on one item, named by a prefix
    [analysed] = detected.as_dict()["analysis"]
    assert analysed["item"] == item and "metadata" not in detected.as_dict()
    assert set(analysed) == {
        "seq",
        "item",
        "media_type",
        "not_applicable",
        "failed",
        "detectors",
        "files",
    }
    assert analysed["failed"] == []  # every built-in detector ran
    # match: the photo is found in lee's case (lee captured the same generated media)
    mdoc = matched.as_dict()
    assert mdoc["acquired"] is False and mdoc["threshold"] == DEFAULT_THRESHOLD
    assert [q["path"] for q in mdoc["queries"]] == [str(photo)]
    assert mdoc["unreadable"] == []
    best = mdoc["matches"][0]
    assert best["item"] == item and best["distance"] == 0 and best["name"] == "photo_002.png"
    assert set(mdoc["within"]) == {"compared", "matches", "not_comparable"}
    assert mdoc["log_entry"] == matched.entry.seq
    logged = [e for e in log_entries(lee_case) if e["action"] == "match"]
    assert [e["seq"] for e in logged] == [matched.entry.seq]
    assert str(photo) not in json.dumps(logged) and "photo_002" not in json.dumps(logged)
    assert logged[0]["details"]["queries_unreadable"] == 0
    # hash list: hashes of every item, logged in kim's case with its SHA-256
    hdoc = listed.as_dict()["hash_list"]
    assert hdoc["format"] == "csv" and hdoc["log_entry"] == listed.entry.seq
    with target.open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == hdoc["items"] == len(Case.open(kim_case, kim).items())
    assert "photo_" not in target.read_text()
    [hashed] = [e for e in log_entries(kim_case) if e["action"] == "export-hash-list"]
    assert hashed["details"]["hash_list"]["sha256"] == hdoc["sha256"]
    # export bag
    edoc = bag.as_dict()
    assert edoc["ok"] is True and edoc["export"]["export_seq"] == bag.export.entry.seq
    assert (tmp_path / "kim-bag" / "bagit.txt").is_file()
    # each case holds only its own work, and verifies clean
    kim_actions, lee_actions = _actions(kim_case), _actions(lee_case)
    assert "match" not in kim_actions and "analysis" not in kim_actions
    assert "export-hash-list" not in lee_actions and "export" not in lee_actions
    assert kim_actions[-1] == "export" and "metadata" in kim_actions
    assert lee_actions[-1] == "analysis" and "perceptual" in lee_actions
    assert _intact(kim, kim_case) and _intact(lee, lee_case)
    with pytest.raises(FrozenInstanceError):
        matched.threshold = 1  # type: ignore[misc]


def test_item_selection(
    two_cases: tuple[tuple[Session, Path, Path], tuple[Session, Path, Path]],
) -> None:
    (kim, kim_case, _media), _ = two_cases
    case = Case.open(kim_case, kim)
    every = tuple(str(i) for i in case.items())
    first = every[0]
    chosen = select_items(case, metadata=True, detect=True)
    assert chosen.detect == every  # nothing analysed yet
    assert set(chosen.metadata) < set(every)  # capture describes images and videos
    assert select_items(case, metadata=True, detect=False, all_items=True).metadata == every
    named = select_items(case, [first[:10], first], metadata=False, detect=True)
    assert named.detect == (first,) and named.metadata == ()
    analyze(kim, [first], detect=True, case_dir=kim_case)
    after = select_items(Case.open(kim_case, kim), metadata=False, detect=True)
    assert after.detect == every[1:]
    described = analyze(kim, metadata=True, case_dir=kim_case)
    assert [r.item_id for r, _e in described.metadata or ()] == list(chosen.metadata)
    nothing = analyze(kim, metadata=True, case_dir=kim_case)
    assert nothing.recovery is None  # nothing to do: the case was not even locked
    assert nothing.as_dict() == {"ok": True, "recovered": None, "metadata": []}


def test_usage_errors_write_nothing(
    two_cases: tuple[tuple[Session, Path, Path], tuple[Session, Path, Path]], tmp_path: Path
) -> None:
    (kim, kim_case, _media), _ = two_cases
    log_before = (kim_case / "custody" / "log.jsonl").read_bytes()
    with pytest.raises(ReportUsageError) as no_cert:
        create_report(kim, demo_tsa=True, case_dir=kim_case)
    assert no_cert.value.key == "no_cert"
    with pytest.raises(ReportUsageError) as bad_preview:
        create_report(kim, preview="sharp", case_dir=kim_case)
    assert bad_preview.value.key == "bad_preview"
    with pytest.raises(MediaAvUsageError) as no_out:
        export_bag(kim, None, case_dir=kim_case)
    assert no_out.value.key == "out_required"
    with pytest.raises(MediaAvUsageError) as bad_ext:
        export_hash_list(kim, tmp_path / "list.txt", case_dir=kim_case)
    assert bad_ext.value.key == "hash_list_format"
    with pytest.raises(MediaAvUsageError) as both:
        export_hash_list(kim, tmp_path / "list.csv", out=tmp_path / "bag", case_dir=kim_case)
    assert both.value.key == "hash_list_with_out"
    existing = tmp_path / "there.json"
    existing.write_text("{}")
    with pytest.raises(MediaAvUsageError) as exists:
        export_hash_list(kim, existing, case_dir=kim_case)
    assert exists.value.key == "hash_list_exists"
    with pytest.raises(MediaAvUsageError) as no_query:
        find_matches(kim, case_dir=kim_case)
    assert no_query.value.key == "no_query"
    with pytest.raises(MediaAvUsageError) as threshold:
        find_matches(kim, within=True, threshold=257, case_dir=kim_case)
    assert threshold.value.key == "threshold_range"
    with pytest.raises(AnalysisUsageError) as no_mode:
        analyze(kim, case_dir=kim_case)
    assert no_mode.value.key == "no_mode"
    assert (kim_case / "custody" / "log.jsonl").read_bytes() == log_before
    assert existing.read_text() == "{}" and not (tmp_path / "list.txt").exists()


def test_an_empty_home_gets_no_key(
    two_cases: tuple[tuple[Session, Path, Path], tuple[Session, Path, Path]], tmp_path: Path
) -> None:
    (_kim, kim_case, _media), _ = two_cases
    empty = tmp_path / "nobody-home"
    for run in (
        lambda s: find_matches(s, within=True, case_dir=kim_case),
        lambda s: export_bag(s, tmp_path / "bag", case_dir=kim_case),
        lambda s: export_hash_list(s, tmp_path / "h.csv", case_dir=kim_case),
        lambda s: analyze(s, metadata=True, case_dir=kim_case),
    ):
        with pytest.raises(KeyringError) as no_key:
            run(_session(empty))
        assert no_key.value.key == "no_key"
    assert not empty.exists()
    assert not (tmp_path / "bag").exists() and not (tmp_path / "h.csv").exists()


def test_tsa_choice_reads_the_sessions_own_home(tmp_path: Path) -> None:
    from forensic.timestamp import TimestampUsageError, default_tsas

    session = _session(tmp_path / "home")
    first = default_tsas()[0]
    assert choose_tsa(session)[0].url == first.url
    assert choose_tsa(session, default_tsas()[-1].url)[0] == default_tsas()[-1]
    assert choose_tsa(session, demo=True)[0].name == "demo-tsa"
    with pytest.raises(TimestampUsageError) as unknown:
        choose_tsa(session, "http://tsa.invalid/")
    assert unknown.value.key == "root_needed"
    session.home.mkdir()
    (session.home / "forensic.toml").write_text("[timestamp]\ndefaults = false\ntimeout = 3\n")
    with pytest.raises(ReportUsageError) as none:
        choose_tsa(session)
    assert none.value.key == "no_tsa"
    assert choose_tsa(session, demo=True)[1] == 3.0


def test_default_threshold_is_the_measured_one() -> None:
    from forensic.media import matching

    assert DEFAULT_THRESHOLD == matching.DEFAULT_THRESHOLD


# -- the command line: only init and the key verbs create a key ---------------------------------
@pytest.mark.parametrize(
    "args",
    [("match", "--within"), ("export", "--out", "{tmp}/bag"), ("export", "--out", "{tmp}/b.zip")],
)
def test_match_within_and_export_never_create_a_key(
    args: tuple[str, ...],
    cli: Cli,
    case_dir: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    empty = tmp_path / "empty-home"
    empty.mkdir()
    monkeypatch.setenv("FORENSIC_HOME", str(empty))
    log_before = (case_dir / "custody" / "log.jsonl").read_bytes()
    argv = [a.format(tmp=tmp_path) for a in args]
    res = cli(*argv, "--case", case_dir, "--json")
    assert res.exit_code == 2, res.stdout + res.stderr
    assert json.loads(res.stdout)["error"]["code"] == "no_key"
    assert "no examiner key" in res.stderr and "Traceback" not in res.stderr
    assert list(empty.iterdir()) == []  # the empty home stays empty
    assert (case_dir / "custody" / "log.jsonl").read_bytes() == log_before
    assert not (tmp_path / "bag").exists() and not (tmp_path / "b.zip").exists()
