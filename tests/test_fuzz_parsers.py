"""Fuzzing (hypothesis) of every parser of untrusted input that exists today.

No input may crash a parser: the only exceptions allowed are the tool's own ForensicError
families, whose one-line messages the CLI prints. A case folder handed over for checking is
untrusted; so are a key file copied from elsewhere and a TSA's response.

Media and chat parsers (EXIF, XMP, IPTC, ICC, PNG chunks, JPEG tables, generator metadata, the
C2PA reader's JSON, Telegram result.json and HTML, KakaoTalk text/CSV/zip) must never raise at
all: a describer turns what it cannot read into ``warnings``, a chat parser into a transcript
marked incomplete with the cause.

CI runs a time-boxed number of examples per target (the whole file stays under ~45 s);
``FORENSIC_SLOW=1`` runs 20x more, ``FORENSIC_FUZZ_EXAMPLES=N`` multiplies by N instead.
The same targets under atheris (coverage-guided): tests/fuzz/atheris_parsers.py.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import rfc8785
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from forensic._internal.canonical import parse_json_line
from forensic.case import Case
from forensic.custody.keys import ExaminerKey, KdfParams, create_key, unlock_key
from forensic.custody.log import CustodyLog, _parse_sig
from forensic.errors import ForensicError
from forensic.timestamp import demo_tsa
from forensic.timestamp.token import TimestampRequest, parse_token, verify_response
from forensic.verify import verify_case
from forensic.verify.script import verify_script
from tests.conftest import REPO

SLOW = os.environ.get("FORENSIC_SLOW") == "1"


FACTOR = int(os.environ.get("FORENSIC_FUZZ_EXAMPLES", "20" if SLOW else "1"))


def fuzz(examples: int) -> Any:
    return settings(
        max_examples=examples * FACTOR,
        deadline=None,
        derandomize=FACTOR == 1,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**60), 2**60)
    | st.text(max_size=20)
    | st.sampled_from(
        ["", "objects/sha256/00/00", "../../etc/passwd", "/etc/passwd", "timestamps/x"]
    ),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.sampled_from(
                [
                    "item",
                    "files",
                    "path",
                    "sha256",
                    "size",
                    "object",
                    "head_seq",
                    "head_hash",
                    "tsr",
                    "chain",
                    "root",
                    "tsa",
                    "case",
                    "public_key_pem",
                    "hashes",
                    "media_type",
                    "tokens",
                    "x",
                ]
            ),
            children,
            max_size=5,
        )
    ),
    max_leaves=12,
)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from forensic.service.demo import run_demo

    out = tmp_path_factory.mktemp("fuzz") / "demo"
    run_demo(out)
    return out


@pytest.fixture(scope="module")
def demo_key(demo: Path) -> ExaminerKey:
    from forensic.demo import DEMO_PASSPHRASE

    return unlock_key(demo / "demo-examiner-key", DEMO_PASSPHRASE)


@pytest.fixture(scope="module")
def key_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("fuzzkey")
    create_key(home, "pass", KdfParams(memory_kib=64, iterations=1, lanes=1))
    return home


def _fresh(demo: Path, tmp: Path, name: str) -> Path:
    """One working copy per target, reused: each example rewrites the files it fuzzes (a copy
    per example costs more than the check itself)."""
    root = tmp / name
    if not root.exists():
        shutil.copytree(demo / "case", root)
    for rel in ("custody/log.jsonl", "custody/log.sig", "case.json"):
        src, dst = demo / "case" / rel, root / rel
        if dst.exists():
            os.chmod(dst, 0o644)
        dst.write_bytes(src.read_bytes())
    return root


def _verify_never_crashes(root: Path) -> None:
    try:
        report = verify_case(Case.open(root), cold=False)
    except ForensicError:
        return
    assert isinstance(report.intact, bool)


@fuzz(300)
@given(st.binary(max_size=300))
def test_log_line_parser(data: bytes) -> None:
    with contextlib.suppress(ValueError, UnicodeDecodeError):
        parse_json_line(data)
    parsed = _parse_sig(data)
    assert parsed is None or isinstance(parsed[0], int)


@fuzz(120)
@given(log=st.binary(max_size=2000), sig=st.binary(max_size=600))
def test_custody_log_verify_on_arbitrary_bytes(
    demo: Path, tmp_path_factory: pytest.TempPathFactory, log: bytes, sig: bytes
) -> None:
    root = _fresh(demo, tmp_path_factory.getbasetemp(), "logbytes")
    (root / "custody" / "log.jsonl").write_bytes(log)
    (root / "custody" / "log.sig").write_bytes(sig)
    case = Case.open(root)
    problems = case.log.verify(case.public_key(), case.info.public_key_fingerprint)
    assert all(p.kind for p in problems)
    _verify_never_crashes(root)


@fuzz(60)
@given(
    st.lists(
        st.tuples(st.integers(0, 15), st.sampled_from(["drop", "dup", "cut", "flip"])),
        min_size=1,
        max_size=4,
    )
)
def test_custody_log_verify_on_damaged_real_log(
    demo: Path, tmp_path_factory: pytest.TempPathFactory, ops: list[tuple[int, str]]
) -> None:
    root = _fresh(demo, tmp_path_factory.getbasetemp(), "damaged")
    path = root / "custody" / "log.jsonl"
    lines = path.read_bytes().split(b"\n")
    for idx, op in ops:
        i = idx % len(lines)
        if op == "drop":
            del lines[i]
        elif op == "dup":
            lines.insert(i, lines[i])
        elif op == "cut":
            lines[i] = lines[i][: len(lines[i]) // 2]
        else:
            lines[i] = lines[i].replace(b'"', b"'", 1)
        if not lines:
            lines = [b""]
    path.write_bytes(b"\n".join(lines))
    _verify_never_crashes(root)


@fuzz(60)
@given(
    action=st.sampled_from(["capture", "timestamp", "export", "verify", "init", "note", "x"]),
    details=st.dictionaries(
        st.sampled_from(["item", "files", "object", "tokens", "head_seq", "case", "run"]),
        json_values,
        max_size=4,
    ),
)
def test_signed_entries_with_arbitrary_details(
    demo: Path,
    demo_key: ExaminerKey,
    tmp_path_factory: pytest.TempPathFactory,
    action: str,
    details: dict[str, Any],
) -> None:
    """A correctly signed entry of any shape (a future or buggy writer) never crashes verify."""
    root = _fresh(demo, tmp_path_factory.getbasetemp(), "signed")
    log = CustodyLog(root)
    seq, prev = log.head()
    obj = {
        "v": 1,
        "seq": seq,
        "prev": prev,
        "time": "2026-11-24T00:00:00.000000Z",
        "actor": demo_key.fingerprint,
        "action": action,
        "subject": "case:fuzz",
        "details": details,
    }
    try:
        line = rfc8785.dumps(obj)
    except Exception:
        return
    with open(log.log_path, "ab") as fh:
        fh.write(line + b"\n")
    with open(log.sig_path, "ab") as fh:
        fh.write(b"%d %s\n" % (seq, base64.b64encode(demo_key.sign(line))))
    _verify_never_crashes(root)


@fuzz(50)
@given(json_values)
def test_case_json(demo: Path, tmp_path_factory: pytest.TempPathFactory, value: Any) -> None:
    root = _fresh(demo, tmp_path_factory.getbasetemp(), "casejson")
    info = json.loads((root / "case.json").read_text("utf-8"))
    if isinstance(value, dict):
        info.update(value)
        data = json.dumps(info).encode()
    else:
        data = json.dumps(value).encode()
    os.chmod(root / "case.json", 0o644)
    (root / "case.json").write_bytes(data)
    _verify_never_crashes(root)


@fuzz(40)
@given(
    st.dictionaries(
        st.sampled_from(
            ["kdf", "nonce", "ciphertext", "public_key_pem", "created", "fingerprint", "v"]
        ),
        json_values
        | st.fixed_dictionaries(
            {
                "memory_kib": st.integers(-5, 2**40),
                "iterations": st.integers(-5, 2**20),
                "lanes": st.integers(-5, 2**20),
                "salt": st.sampled_from(["", "AAAA", "1Stk8iKwVXt0psLAwdg+Jw==", "!!"]),
            }
        ),
        max_size=4,
    )
)
def test_key_file_json(
    key_home: Path, tmp_path_factory: pytest.TempPathFactory, changes: dict[str, Any]
) -> None:
    home = tmp_path_factory.getbasetemp() / "keyfuzz"
    home.mkdir(exist_ok=True)
    record = json.loads((key_home / "examiner-key.json").read_text("utf-8"))
    record.update(changes)
    (home / "examiner-key.json").write_text(json.dumps(record), "utf-8")
    with contextlib.suppress(ForensicError):
        unlock_key(home, "pass")


@pytest.fixture(scope="module")
def real_token(demo: Path) -> tuple[bytes, TimestampRequest]:
    tsr = sorted((demo / "case" / "timestamps").glob("*.tsr"))[0]
    tsq = tsr.with_suffix(".tsq")
    line = next(
        x
        for x in (demo / "case" / "custody" / "log.jsonl").read_bytes().split(b"\n")
        if x.startswith(b'{"action":"timestamp"')
    )
    tok = json.loads(line)["details"]
    head_seq = int(tok.get("head_seq", tok.get("tokens", [{}])[0].get("head_seq", 0)))
    head_hash = str(tok.get("head_hash", tok.get("tokens", [{}])[0].get("head_hash", "")))
    return tsr.read_bytes(), TimestampRequest.load(head_seq, head_hash, tsq.read_bytes())


@fuzz(150)
@given(st.binary(max_size=400))
def test_tsa_response_garbage(data: bytes) -> None:
    with contextlib.suppress(ForensicError):
        parse_token(data, demo_tsa())


@fuzz(120)
@given(st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 255)), min_size=1, max_size=6))
def test_tsa_response_mutated(
    real_token: tuple[bytes, TimestampRequest], edits: list[tuple[int, int]]
) -> None:
    """A real token with bytes changed: parsed and verified, or refused with the tool's error."""
    data, request = real_token
    buf = bytearray(data)
    for off, val in edits:
        buf[off % len(buf)] = val
    with contextlib.suppress(ForensicError):
        verify_response(bytes(buf), request, demo_tsa())


def test_tsa_response_with_a_damaged_name_in_an_embedded_certificate(
    real_token: tuple[bytes, TimestampRequest],
) -> None:
    """Regression (CI fuzz run, 2026-11-25): a certificate Name whose SEQUENCE tag is zeroed
    parsed lazily and raised asn1crypto's ValueError out of the chain building."""
    data, request = real_token
    name = b"1\x1d0\x1b\x06\x03U\x04\n\x0c\x14DEMO"
    places = [at for at in range(len(data)) if data.startswith(name, at) and data[at - 2] == 0x30]
    assert len(places) >= 3, "the demo certificates' layout changed"
    for at in places:  # every issuer and subject Name of every embedded certificate
        buf = bytearray(data)
        buf[at - 2] = 0  # the Name's SEQUENCE tag
        with pytest.raises(ForensicError):
            verify_response(bytes(buf), request, demo_tsa())


@fuzz(6)
@given(
    manifest=st.binary(max_size=300),
    info=st.binary(max_size=200),
)
def test_bag_verify_sh_on_arbitrary_manifests(
    demo: Path, tmp_path_factory: pytest.TempPathFactory, manifest: bytes, info: bytes
) -> None:
    """The bag's verify.sh reads manifests and bag-info that anyone could have written: it
    reports problems (exit 1), never exits with a shell error or writes outside its temp dir."""
    bag = tmp_path_factory.getbasetemp() / "bagfuzz"
    if bag.exists():
        shutil.rmtree(bag)
    shutil.copytree(demo / "export" / "DEMO-2026-0001-bag", bag)
    for name, data in (("manifest-sha256.txt", manifest), ("bag-info.txt", info)):
        os.chmod(bag / name, 0o644)
        (bag / name).write_bytes(data)
    before = set(os.listdir(bag))
    res = subprocess.run(
        ["sh", str(REPO / "templates" / "export" / "verify.sh"), str(bag)],
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert res.returncode == 1, res.stdout[-500:]
    assert b"RESULT: PROBLEMS FOUND" in res.stdout
    assert set(os.listdir(bag)) == before


def test_case_verify_sh_on_arbitrary_log(demo: Path, tmp_path: Path) -> None:
    """A few hand-picked hostile log lines for the sh verifier (quotes, $(...), backticks)."""
    root = _fresh(demo, tmp_path, "shlog")
    canary = tmp_path / "pwned"
    evil = [
        b'{"action":"x$(touch ' + bytes(canary) + b')","seq":0}',
        b"`touch " + bytes(canary) + b"`",
        b'{"files":[{"path":"../../../../etc/passwd","sha256":"' + b"0" * 64 + b'","size":1}]}',
        b"\x00\xff\xfe" + base64.b64encode(b"x" * 30),
        rfc8785.dumps({"a": "'; touch " + str(canary) + "; '"}),
    ]
    (root / "custody" / "log.jsonl").write_bytes(b"\n".join(evil) + b"\n")
    script = tmp_path / "verify.sh"
    script.write_bytes(verify_script())
    res = subprocess.run(["sh", str(script), str(root)], capture_output=True, timeout=60)
    assert res.returncode == 1
    assert not canary.exists()


# -- media describers, C2PA, chat exports ---------------------------------------------------------
from tests.fuzz import targets  # noqa: E402  (shared with the atheris harness)


def _mutate(seed: bytes, ops: list[tuple[int, int, int]]) -> bytes:
    return targets.mutate(seed, ops)


mutations = st.lists(
    st.tuples(st.integers(0, 3), st.integers(0, 2**20), st.integers(0, 255)), max_size=8
)


@fuzz(60)
@given(seed=st.sampled_from(sorted(targets.media_seeds())), ops=mutations)
def test_media_describers_on_mutated_images(
    tmp_path_factory: pytest.TempPathFactory, seed: str, ops: list[tuple[int, int, int]]
) -> None:
    """Every image describer (EXIF, XMP, IPTC, ICC, thumbnail, JPEG tables, PNG text,
    generators) and C2PA on a real image with bytes changed: a dict with warnings, never an
    exception."""
    data = _mutate(targets.media_seeds()[seed], ops)
    targets.describe_all(data, tmp_path_factory.getbasetemp() / "media-fuzz")


@fuzz(60)
@given(st.binary(max_size=600), st.sampled_from(sorted(targets.MAGIC)))
def test_media_describers_on_garbage_with_magic(
    tmp_path_factory: pytest.TempPathFactory, data: bytes, magic: str
) -> None:
    targets.describe_all(targets.MAGIC[magic] + data, tmp_path_factory.getbasetemp() / "magic")


@fuzz(150)
@given(st.binary(max_size=400) | st.text(max_size=300).map(str.encode), mutations)
def test_xmp_packet_parser(body: bytes, ops: list[tuple[int, int, int]]) -> None:
    targets.xmp_packet(body, ops)


@fuzz(150)
@given(
    st.dictionaries(
        st.sampled_from(["parameters", "prompt", "workflow", "Dream", "sd-metadata", "x"]),
        st.text(max_size=200) | json_values.map(json.dumps),
        max_size=3,
    )
)
def test_generator_metadata_parsers(texts: dict[str, str]) -> None:
    from forensic.media.image.generators import detect

    assert isinstance(detect(texts), list)


c2pa_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=12),
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(
            st.sampled_from(sorted(targets.C2PA_KEYS)) | st.text(max_size=4), children, max_size=4
        )
    ),
    max_leaves=20,
)


@fuzz(200)
@given(c2pa_json, st.booleans(), c2pa_json)
def test_c2pa_reader_json(report: Any, embedded: bool, remote: Any) -> None:
    """The JSON report c2pa-rs returns repeats the file's manifest: any shape is summarised."""
    targets.c2pa_report(report, embedded, remote)


@fuzz(40)
@given(st.data())
def test_telegram_result_json(
    tmp_path_factory: pytest.TempPathFactory, data: st.DataObject
) -> None:
    base = targets.telegram_seed()
    how = data.draw(st.sampled_from(["mutate", "json"]))
    if how == "mutate":
        blob = _mutate(base, data.draw(mutations))
    else:
        messages = data.draw(st.lists(json_values, max_size=4))
        chat = data.draw(st.dictionaries(st.sampled_from(["name", "type", "id", "x"]), json_values))
        blob = json.dumps({**chat, "messages": messages}).encode()
    targets.telegram_json(blob, tmp_path_factory.getbasetemp() / "tg")


@fuzz(40)
@given(st.sampled_from(sorted(targets.kakao_seeds())), mutations, st.text(max_size=200))
def test_kakaotalk_text_and_csv(
    tmp_path_factory: pytest.TempPathFactory,
    seed: str,
    ops: list[tuple[int, int, int]],
    extra: str,
) -> None:
    blob = _mutate(targets.kakao_seeds()[seed] + extra.encode("utf-8", "replace"), ops)
    targets.kakao_file(blob, seed.rsplit(".", 1)[-1], tmp_path_factory.getbasetemp() / "kk")


@fuzz(30)
@given(mutations)
def test_kakaotalk_zip(
    tmp_path_factory: pytest.TempPathFactory, ops: list[tuple[int, int, int]]
) -> None:
    blob = _mutate(targets.kakao_zip_seed(), ops)
    targets.kakao_file(blob, "zip", tmp_path_factory.getbasetemp() / "kz")


@fuzz(25)
@given(mutations)
def test_telegram_html(
    tmp_path_factory: pytest.TempPathFactory, ops: list[tuple[int, int, int]]
) -> None:
    blob = _mutate(targets.telegram_html_seed(), ops)
    targets.telegram_html(blob, tmp_path_factory.getbasetemp() / "tgh")


def test_atheris_findings_stay_fixed(tmp_path: Path) -> None:
    """Inputs atheris found crashing the KakaoTalk parser (docs/robustness.md §3)."""
    import io
    import zipfile

    from tests.chatexports import KAKAO_ANDROID_KO

    # a UTF-8 BOM followed by bytes that are not UTF-8 (was UnicodeDecodeError while parsing)
    targets.kakao_file(
        b"\xef\xbb\xbfKT\x97\x93k Chats with Hong\nDate Saved : x\n", "txt", tmp_path / "bom"
    )
    # a member with an empty name (was IndexError from ZipInfo.is_dir())
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("KakaoTalkChats.txt", KAKAO_ANDROID_KO)
        zf.writestr(zipfile.ZipInfo(""), b"nameless")
    targets.kakao_file(buf.getvalue(), "zip", tmp_path / "empty-name")
    # a Telegram HTML page whose date title names 31 February (was ValueError from datetime)
    page = b'<div class="message default" id="message1"><div class="pull_right date details" '
    page += b'title="31.02.2022 10:00:00 UTC+99:00"></div><div class="from_name">A</div></div>'
    targets.telegram_html(page, tmp_path / "tg-date")
