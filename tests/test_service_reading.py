"""The reading and verifying use cases as a library, without the CLI.

Two examiners' sessions work on two encrypted cases in one process, interleaved: each access
entry lands in the case that was read, under the verb that read it, and a session without its
passphrase still sees every record and is told what it could not show or log. The CLI is used
only to set the cases up.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from forensic.errors import KeyringError
from forensic.i18n import message
from forensic.service.reading import access_details, list_items, read_log, show_item
from forensic.service.verification import verify
from forensic.session import Session
from tests.conftest import PASSPHRASE, Cli

OTHER_PASSPHRASE = "a different examiner's passphrase"


@pytest.fixture(autouse=True)
def fast_scrypt(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FORENSIC_AGE_WORK_FACTOR", "10")


def _encrypted_case(
    cli: Cli, tmp_path: Path, name: str, seed: int, *, encrypt: bool = True
) -> tuple[Path, str]:
    """A case (by the examiner of ``FORENSIC_HOME``) holding one photo: (root, item id)."""
    src = tmp_path / f"src-{name}"
    src.mkdir()
    rng = np.random.default_rng(seed)
    pixels = rng.integers(0, 256, size=(48, 64, 3), dtype=np.uint8)
    Image.fromarray(pixels).save(src / "photo.png", "PNG")
    case = tmp_path / name
    flags = ["--encrypt"] if encrypt else []
    res = cli("init", case, "--case-id", name, "--title", name, "--examiner", name, *flags)
    assert res.exit_code == 0, res.stderr
    res = cli("capture", src, "--case", case, "--json")
    assert res.exit_code == 0, res.stderr
    res = cli("list", "--case", case, "--json")
    [item] = json.loads(res.stdout)["items"]
    return case, str(item["sha256"])


@pytest.fixture
def two_cases(
    cli: Cli, tmp_path: Path, forensic_env: Path, monkeypatch: pytest.MonkeyPatch
) -> tuple[tuple[Path, str, Path], tuple[Path, str, Path]]:
    """Case A by examiner A (``forensic_env``), case B by examiner B: (root, item, home) each."""
    case_a, item_a = _encrypted_case(cli, tmp_path, "A-1", 1)
    home_b = tmp_path / "home-b"
    monkeypatch.setenv("FORENSIC_HOME", str(home_b))
    monkeypatch.setenv("FORENSIC_PASSPHRASE", OTHER_PASSPHRASE)
    case_b, item_b = _encrypted_case(cli, tmp_path, "B-1", 2)
    monkeypatch.setenv("FORENSIC_HOME", str(forensic_env))
    monkeypatch.setenv("FORENSIC_PASSPHRASE", PASSPHRASE)
    return (case_a, item_a, forensic_env), (case_b, item_b, home_b)


def _session(home: Path, passphrase: str | None, verb: str = "api") -> Session:
    if passphrase is None:
        return Session(home=home, verb=verb)  # the default provider: no passphrase to be had
    return Session(home=home, passphrase_provider=lambda _new: passphrase, verb=verb)


def _access(session: Session, case: Path, since: int = 0) -> list[dict[str, object]]:
    """The access records of the entries from seq ``since`` on."""
    found = []
    for entry in read_log(session, case, access_only=True).entries:
        details = access_details(entry)
        if entry.seq >= since and details is not None:
            found.append(details)
    return found


def _log_length(case: Path) -> int:
    return len((case / "custody" / "log.jsonl").read_bytes().splitlines())


def test_two_sessions_two_cases_interleaved(
    two_cases: tuple[tuple[Path, str, Path], tuple[Path, str, Path]],
) -> None:
    (case_a, item_a, home_a), (case_b, item_b, home_b) = two_cases
    examiner = _session(home_a, PASSPHRASE, verb="show")
    locked_out = _session(home_b, None, verb="show")  # B's key, but no passphrase at hand
    before_a, before_b = _log_length(case_a), _log_length(case_b)

    seen_a = show_item(examiner, item_a[:12], case_a)
    seen_b = show_item(locked_out, item_b[:12], case_b)
    assert [i.item_id for i in list_items(locked_out, case_b).items] == [item_b]
    again_a = show_item(examiner, item_a, case_a)

    # A: logged in A's case only, one entry per view, naming the item; derived files decrypted.
    assert seen_a.access_seq == before_a and again_a.access_seq == before_a + 1
    assert seen_a.access_not_logged is None and seen_a.derived_not_shown is None
    assert seen_a.metadata is not None and seen_a.item.encrypted
    views = _access(examiner, case_a, before_a)
    assert [v["verb"] for v in views] == ["show", "show"]
    assert all(v["items"] == [item_a] and v["decrypted"] is False for v in views)
    assert examiner.pending_roots() == []  # the view's own entry named what it decrypted

    # B: the record from the log, the reason derived files are not shown, nothing logged.
    assert seen_b.item.item_id == item_b and seen_b.item.encrypted
    assert seen_b.metadata is None and seen_b.chat_context == ()
    reason = KeyringError("passphrase_needed").diagnostics("en")
    assert seen_b.access_seq is None and seen_b.access_not_logged == reason
    assert seen_b.derived_not_shown is not None
    assert seen_b.derived_not_shown.startswith(message("derived.not_shown", "en", reason="")[:12])
    doc = seen_b.as_dict()
    assert doc["item"]["derived_not_shown"] == seen_b.derived_not_shown
    assert doc["item"]["encrypted_object"]["sha256"] == seen_b.item.object_sha256

    assert examiner.close() == [] and locked_out.close() == []
    assert _log_length(case_a) == before_a + 2 and _log_length(case_b) == before_b
    assert _access(locked_out, case_b, before_b) == []


def test_close_logs_pending_decryptions_in_their_case(
    two_cases: tuple[tuple[Path, str, Path], tuple[Path, str, Path]],
) -> None:
    (case_a, item_a, home_a), (case_b, item_b, home_b) = two_cases
    quiet = _session(home_a, PASSPHRASE, verb="show")
    other = _session(home_b, OTHER_PASSPHRASE, verb="show")
    before_a, before_b = _log_length(case_a), _log_length(case_b)

    view = show_item(quiet, item_a, case_a, no_record=True)
    assert view.access_seq is None and view.access_not_logged == "--no-record"
    assert view.metadata is not None  # decrypted: the decryption is still owed to the log
    assert [p.resolve() for p in quiet.pending_roots()] == [case_a.resolve()]
    assert _log_length(case_a) == before_a
    logged_b = show_item(other, item_b, case_b)
    assert logged_b.access_seq is not None

    assert quiet.close() == []
    [pending] = [e for e in read_log(quiet, case_a, access_only=True).entries if e.seq >= before_a]
    assert pending.seq == before_a
    assert pending.details["verb"] == "show" and pending.details["items"] == [item_a]
    assert pending.details["decrypted"] is True
    assert [v["items"] for v in _access(other, case_b, before_b)] == [[item_b]]  # none of A's in B
    assert other.close() == [] and _log_length(case_a) == before_a + 1


def test_verify_record_policy(
    two_cases: tuple[tuple[Path, str, Path], tuple[Path, str, Path]],
) -> None:
    (case_a, _item_a, home_a), (_case_b, _item_b, home_b) = two_cases
    examiner = _session(home_a, PASSPHRASE)
    n = _log_length(case_a)

    recorded = verify(examiner, case_a)
    assert recorded.intact and recorded.recorded_seq == n and recorded.not_recorded is None
    assert read_log(examiner, case_a).entries[-1].action == "verify"

    asked = verify(examiner, case_a, no_record=True)
    assert asked.intact and asked.recorded_seq is None and asked.not_recorded == "--no-record"

    # Third parties: no passphrase, or another examiner's key: full check, not recorded.
    want = json.loads((case_a / "case.json").read_text("utf-8"))["public_key_fingerprint"]
    for stranger, why in (
        (_session(home_a, None), KeyringError("passphrase_needed").diagnostics("en")),
        (_session(home_b, OTHER_PASSPHRASE), want[:16]),
    ):
        result = verify(stranger, case_a)
        assert result.intact and result.recorded_seq is None
        assert result.report.objects_checked == 1 and result.report.plaintext_checked == 0
        assert result.not_recorded is not None and why in result.not_recorded
    assert _log_length(case_a) == n + 1

    # --decrypt: the plaintext re-hashed and the decryption logged as a ``verify`` access.
    plain = verify(_session(home_a, PASSPHRASE), case_a, decrypt=True)
    assert plain.intact and plain.report.plaintext_checked == 1
    assert plain.recorded_seq == n + 1
    assert _access(examiner, case_a)[-1]["verb"] == "verify"
    with pytest.raises(KeyringError) as wrong:
        verify(_session(home_a, "not the passphrase"), case_a, decrypt=True)
    assert wrong.value.key == "wrong_passphrase"


def test_verify_does_not_append_to_a_broken_log(
    two_cases: tuple[tuple[Path, str, Path], tuple[Path, str, Path]],
) -> None:
    (case_a, _item_a, home_a), _ = two_cases
    log = case_a / "custody" / "log.jsonl"
    lines = log.read_bytes().splitlines(keepends=True)
    del lines[1]
    log.chmod(0o644)
    log.write_bytes(b"".join(lines))
    result = verify(_session(home_a, PASSPHRASE), case_a)
    assert not result.intact and not result.report.log_intact
    assert result.recorded_seq is None
    assert result.not_recorded == message("error.log_not_intact", "en")
    assert log.read_bytes() == b"".join(lines)
    assert result.as_dict()["ok"] is False and result.as_dict()["recorded_seq"] is None


def test_documents_have_the_cli_keys(
    two_cases: tuple[tuple[Path, str, Path], tuple[Path, str, Path]], cli: Cli
) -> None:
    """``as_dict()`` is the verb's ``--json`` document."""
    (case_a, item_a, home_a), _ = two_cases
    session = _session(home_a, PASSPHRASE)
    pairs = {
        ("list",): list_items(session, case_a).as_dict(),
        ("log", "--access"): read_log(session, case_a, access_only=True).as_dict(),
        ("show", item_a, "--no-record"): show_item(
            session, item_a, case_a, no_record=True
        ).as_dict(),
        ("verify", "--no-record"): verify(session, case_a, no_record=True).as_dict(),
    }
    for args, doc in pairs.items():
        res = cli(*args, "--case", case_a, "--json")
        assert res.exit_code == 0, res.stderr
        shown = json.loads(res.stdout)
        assert set(shown) == set(doc), args
        if args[0] == "show":
            assert set(shown["item"]) == set(doc["item"])
            assert shown["item"]["metadata"] == doc["item"]["metadata"]
        if args[0] == "list":
            assert shown == doc
