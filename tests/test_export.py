"""``forensic export``: a sealed BagIt bag that the LoC bagit tool, rdflib and its own POSIX-sh
checker accept, and that names any single changed byte."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import zipfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from forensic.case import Case
from forensic.case.case import file_record
from forensic.custody import PendingEntry, config_home, load_or_create_key
from tests.conftest import PASSPHRASE, REPO, Cli

OPENSSL = shutil.which("openssl")
needs_openssl = pytest.mark.skipif(OPENSSL is None, reason="openssl not installed")


# -- helpers -------------------------------------------------------------------------------
def capture_two(cli: Cli, case_dir: Path, tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    (src / "photo.jpg").write_bytes(b"\xff\xd8\xff\xe0" + bytes(range(256)) * 8)
    (src / "chat.txt").write_text("대화 기록 / chat log\n", "utf-8")
    res = cli("capture", "--case", case_dir, "--hash", "md5,sha1,sha512", src)
    assert res.exit_code == 0, res.stderr


def export(cli: Cli, case_dir: Path, out: Path, *extra: str) -> dict[str, Any]:
    res = cli("export", "--case", case_dir, "--out", out, "--json", *extra)
    assert res.exit_code == 0, res.stdout + res.stderr
    doc: dict[str, Any] = json.loads(res.stdout)
    return doc


def verify_sh(bag: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["sh", str(bag / "verify.sh"), str(bag)], capture_output=True, text=True, timeout=60
    )


def bagit_validate(bag: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bagit", "--validate", str(bag)],
        capture_output=True,
        text=True,
        timeout=60,
    )


def openssl(*args: str | Path, cwd: Path) -> None:
    subprocess.run(["openssl", *[str(a) for a in args]], cwd=cwd, check=True, capture_output=True)


def make_tsa(where: Path) -> Path:
    """A throw-away root CA and a time-stamping authority certificate it signed."""
    where.mkdir()
    (where / "ext.cnf").write_text(
        "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\n"
        "extendedKeyUsage=critical,timeStamping\n"
    )
    ec = ("-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes")
    openssl("req", "-x509", *ec, "-keyout", "root.key", "-out", "root.crt",
            "-subj", "/CN=Test Root", "-days", "30",
            "-addext", "basicConstraints=critical,CA:TRUE",
            "-addext", "keyUsage=critical,keyCertSign,cRLSign", cwd=where)  # fmt: skip
    openssl("req", "-new", *ec, "-keyout", "tsa.key", "-out", "tsa.csr",
            "-subj", "/CN=Test TSA", cwd=where)  # fmt: skip
    openssl("x509", "-req", "-in", "tsa.csr", "-CA", "root.crt", "-CAkey", "root.key",
            "-CAcreateserial", "-out", "tsa.crt", "-days", "30", "-extfile", "ext.cnf",
            cwd=where)  # fmt: skip
    (where / "serial").write_text("01\n")
    (where / "tsa.cnf").write_text(
        f"""[ tsa ]
default_tsa = tsa1
[ tsa1 ]
serial = {where}/serial
crypto_device = builtin
signer_cert = {where}/tsa.crt
signer_key = {where}/tsa.key
signer_digest = sha256
default_policy = 1.2.3.4.1
digests = sha256
accuracy = secs:1
ordering = yes
tsa_name = yes
ess_cert_id_alg = sha256
"""
    )
    return where


def _gen_time(tsr: Path) -> str:
    from asn1crypto import tsp

    token = tsp.TimeStampResp.load(tsr.read_bytes())["time_stamp_token"]
    moment: datetime = token["content"]["encap_content_info"]["content"].parsed["gen_time"].native
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def add_timestamp(case_dir: Path, tsa: Path, name: str, *, wrong_digest: bool = False) -> None:
    """Record a token in the shape of the timestamp helper's log entries, made with openssl ts."""
    case = Case.open(case_dir)
    key, _ = load_or_create_key(config_home(), lambda _new: PASSPHRASE)
    with case.writing(key):
        next_seq, head_hash = case.log.head()
        stamped = "ab" * 32 if wrong_digest else head_hash
        tdir = case.root / "timestamps"
        tdir.mkdir(exist_ok=True)
        tsq, tsr, chain = (tdir / f"{name}.tsq", tdir / f"{name}.tsr", tdir / f"{name}.chain.pem")
        openssl("ts", "-query", "-digest", stamped, "-sha256", "-cert", "-out", tsq, cwd=tsa)
        openssl("ts", "-reply", "-queryfile", tsq, "-config", "tsa.cnf", "-out", tsr, cwd=tsa)
        chain.write_bytes((tsa / "tsa.crt").read_bytes() + (tsa / "root.crt").read_bytes())
        rel = {p: p.relative_to(case.root).as_posix() for p in (tsq, tsr, chain)}
        token = {
            "tsa": "Test TSA",
            "url": "http://tsa.invalid/",
            "head_seq": next_seq - 1,
            "head_hash": head_hash,
            "gen_time": _gen_time(tsr),  # the token's own: verify compares the two
            "serial": "01",
            "policy": "1.2.3.4.1",
            "tsq": rel[tsq],
            "tsr": rel[tsr],
            "chain": rel[chain],
            "root_sha256": hashlib.sha256(
                x509.load_pem_x509_certificate((tsa / "root.crt").read_bytes()).public_bytes(
                    serialization.Encoding.DER
                )
            ).hexdigest(),
            "trusted": False,
            "demo": True,
        }
        details = {"tokens": [token], "files": [file_record(case.root, p) for p in rel]}
        case.record(key, [PendingEntry("timestamp", f"case:{case.info.case_id}", details)])


def flip_one_byte(path: Path) -> None:
    data = bytearray(path.read_bytes())
    at = len(data) // 2
    data[at] ^= 0x01
    path.chmod(0o644)
    path.write_bytes(bytes(data))


# -- tests ---------------------------------------------------------------------------------
def test_export_dir_is_valid_bag_and_verifies(tmp_path: Path, cli: Cli, case_dir: Path) -> None:
    capture_two(cli, case_dir, tmp_path)
    before = Case.open(case_dir).entries()[-1]
    out = tmp_path / "exports" / "bag"
    doc = export(cli, case_dir, out)["export"]
    assert doc["items"] == 2 and doc["format"] == "directory"
    assert doc["log_head"] == before.hash and doc["log_head_seq"] == before.seq

    assert bagit_validate(out).returncode == 0
    sh = verify_sh(out)
    assert sh.returncode == 0, sh.stdout
    assert "RESULT: intact" in sh.stdout
    info = (out / "bag-info.txt").read_text("utf-8")
    for field in ("Source-Organization", "Contact-Name: Examiner", "External-Identifier: T-1",
                  "Bagging-Date", "Payload-Oxum", "Bag-Software-Agent: forensic"):  # fmt: skip
        assert field in info
    assert f"Forensic-Log-Head: {before.hash}" in info
    for rel in ("custody/log.jsonl", "custody/log.sig", "examiner.pub.pem", "case.json",
                "case-uco.jsonld", "verify.sh"):  # fmt: skip
        assert (out / "data" / rel).is_file()
    md = (out / "VERIFY.md").read_text("utf-8")
    assert "sh verify.sh" in md and "검증" in md and before.hash in md

    # The export is logged with the bag's hashes, and the case still verifies.
    entries = Case.open(case_dir).entries()
    last = entries[-1]
    assert last.action == "export" and last.seq == before.seq + 1
    manifest_sha = subprocess.run(
        ["sha256sum", str(out / "manifest-sha256.txt"), str(out / "tagmanifest-sha256.txt")],
        capture_output=True, text=True, check=True,
    ).stdout.split()  # fmt: skip
    assert last.details["manifest_sha256"] == manifest_sha[0] == doc["manifest_sha256"]
    assert last.details["tagmanifest_sha256"] == manifest_sha[2]
    assert last.details["destination"] == str(out)
    assert last.details["file_count"] == doc["files"]
    assert last.details["tool"]["version"]
    res = cli("verify", "--case", case_dir, "--json")
    assert res.exit_code == 0, res.stdout
    case_sh = subprocess.run(["sh", str(case_dir / "verify.sh")], capture_output=True, text=True)
    assert case_sh.returncode == 0, case_sh.stdout


def test_export_zip_is_the_same_bag(tmp_path: Path, cli: Cli, case_dir: Path) -> None:
    capture_two(cli, case_dir, tmp_path)
    out = tmp_path / "evidence.zip"
    doc = export(cli, case_dir, out)["export"]
    assert doc["format"] == "zip" and doc["zip_sha256"]
    with zipfile.ZipFile(out) as zf:
        names = zf.namelist()
        assert all(n.startswith("evidence/") for n in names)
        zf.extractall(tmp_path / "unzipped")
    bag = tmp_path / "unzipped" / "evidence"
    assert bagit_validate(bag).returncode == 0
    sh = verify_sh(bag)
    assert sh.returncode == 0, sh.stdout
    assert not [p for p in tmp_path.iterdir() if ".partial-" in p.name]
    entry = Case.open(case_dir).entries()[-1]
    assert entry.details["format"] == "zip"
    assert entry.details["zip_sha256"] == doc["zip_sha256"]


def test_uco_jsonld_parses_and_carries_hashes(tmp_path: Path, cli: Cli, case_dir: Path) -> None:
    rdflib = pytest.importorskip("rdflib")
    capture_two(cli, case_dir, tmp_path)
    assert cli("verify", "--case", case_dir).exit_code == 0
    out = tmp_path / "bag"
    export(cli, case_dir, out)
    graph = rdflib.Graph()
    graph.parse(out / "data" / "case-uco.jsonld", format="json-ld")
    rows = graph.query(
        """
        PREFIX uco-core: <https://ontology.unifiedcyberontology.org/uco/core/>
        PREFIX uco-observable: <https://ontology.unifiedcyberontology.org/uco/observable/>
        PREFIX uco-types: <https://ontology.unifiedcyberontology.org/uco/types/>
        SELECT ?file ?method ?value WHERE {
          ?file a uco-observable:File ; uco-core:hasFacet ?facet .
          ?facet a uco-observable:ContentDataFacet ; uco-observable:hash ?h .
          ?h uco-types:hashMethod ?method ; uco-types:hashValue ?value .
        }"""
    )
    found: dict[str, set[str]] = {}
    for _file, method, value in rows:
        found.setdefault(str(method), set()).add(str(value))
    case = Case.open(case_dir)
    for item in case.items().values():
        assert item.item_id in found["SHA256"]
        assert item.hashes["md5"] in found["MD5"]
        assert item.hashes["sha1"] in found["SHA1"]
        assert item.hashes["sha512"] in found["SHA512"]
    inv = "https://ontology.caseontology.org/case/investigation/"
    actions = {
        str(o)
        for s in graph.subjects(rdflib.RDF.type, rdflib.URIRef(inv + "InvestigativeAction"))
        for o in graph.objects(
            s, rdflib.URIRef("https://ontology.unifiedcyberontology.org/uco/core/name")
        )
    }
    assert {"capture", "verify", "export"} <= actions
    exhibits = {str(o) for o in graph.objects(None, rdflib.URIRef(inv + "exhibitNumber"))}
    assert exhibits == {"T-1-001", "T-1-002"}


@needs_openssl
def test_timestamp_tokens_verify_and_bad_digest_fails(
    tmp_path: Path, cli: Cli, case_dir: Path
) -> None:
    capture_two(cli, case_dir, tmp_path)
    tsa = make_tsa(tmp_path / "tsa")
    add_timestamp(case_dir, tsa, "good")
    assert cli("verify", "--case", case_dir).exit_code == 0
    good = tmp_path / "good-bag"
    doc = export(cli, case_dir, good)["export"]
    assert doc["timestamp_tokens"] == 1
    assert (good / "data" / "timestamps" / "good.tsr").is_file()
    sh = verify_sh(good)
    assert sh.returncode == 0, sh.stdout
    assert "timestamp token data/timestamps/good.tsr" in sh.stdout
    # The chain is checked as of the token's own genTime (computed in POSIX awk).
    line = next(x for x in sh.stdout.splitlines() if "good.tsr" in x)
    shown = re.search(r"time (\w{3} +\d+ [\d:.]+ \d{4}) GMT", line)
    epoch = re.search(r"as of epoch (\d+)", line)
    assert shown and epoch, line
    when = datetime.strptime(shown.group(1).split(".")[0], "%b %d %H:%M:%S %Y")
    assert int(epoch.group(1)) == int(when.replace(tzinfo=UTC).timestamp())
    assert bagit_validate(good).returncode == 0

    add_timestamp(case_dir, tsa, "bad", wrong_digest=True)
    bad = tmp_path / "bad-bag"
    export(cli, case_dir, bad)
    sh = verify_sh(bad)
    assert sh.returncode == 1, sh.stdout
    problems = [line for line in sh.stdout.splitlines() if line.startswith("PROBLEM")]
    assert problems and all("data/timestamps/bad.tsr" in line for line in problems), problems


@needs_openssl
def test_every_single_byte_change_is_named(tmp_path: Path, cli: Cli, case_dir: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    (src / "a.txt").write_text("first exhibit\n")
    assert cli("capture", "--case", case_dir, "--hash", "md5", src).exit_code == 0
    add_timestamp(case_dir, make_tsa(tmp_path / "tsa"), "t1")
    bag = tmp_path / "bag"
    export(cli, case_dir, bag)
    assert verify_sh(bag).returncode == 0
    files = sorted(p.relative_to(bag).as_posix() for p in bag.rglob("*") if p.is_file())
    assert len(files) >= 15
    for rel in files:
        copy = tmp_path / "flip" / rel.replace("/", "_")
        shutil.copytree(bag, copy)
        flip_one_byte(copy / rel)
        # A changed verify.sh cannot judge itself: the pristine script checks every copy.
        sh = subprocess.run(
            ["sh", str(REPO / "templates" / "export" / "verify.sh"), str(copy)],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert sh.returncode != 0, f"{rel}: {sh.stdout}"
        named = [line for line in sh.stdout.splitlines() if "PROBLEM" in line and rel in line]
        assert named, f"{rel} not named:\n{sh.stdout}"
        shutil.rmtree(copy)


def test_refuses_existing_destination_unless_force(
    tmp_path: Path, cli: Cli, case_dir: Path
) -> None:
    capture_two(cli, case_dir, tmp_path)
    out = tmp_path / "bag"
    out.mkdir()
    (out / "keep.txt").write_text("not ours")
    res = cli("export", "--case", case_dir, "--out", out)
    assert res.exit_code == 2
    assert str(out) in res.stderr and "--force" in res.stderr
    assert (out / "keep.txt").is_file()
    assert Case.open(case_dir).entries()[-1].action != "export"
    zipped = tmp_path / "bag.zip"
    zipped.write_bytes(b"old")
    assert cli("export", "--case", case_dir, "--out", zipped, "--json").exit_code == 2
    assert zipped.read_bytes() == b"old"
    # Into the case itself: refused.
    assert cli("export", "--case", case_dir, "--out", case_dir / "x").exit_code == 2

    export(cli, case_dir, out, "--force")
    assert not (out / "keep.txt").exists()
    assert verify_sh(out).returncode == 0
    export(cli, case_dir, zipped, "--force")
    assert zipfile.is_zipfile(zipped)
    assert [e.action for e in Case.open(case_dir).entries()][-2:] == ["export", "export"]
    assert cli("verify", "--case", case_dir).exit_code == 0


def test_korean_messages(tmp_path: Path, cli: Cli, case_dir: Path) -> None:
    out = tmp_path / "bag"
    assert cli("export", "--case", case_dir, "--out", out, "--lang", "ko").exit_code == 0
    res = cli("export", "--case", case_dir, "--out", out, "--lang", "ko")
    assert res.exit_code == 2 and "이미 있습니다" in res.stderr


def test_failure_mid_write_leaves_nothing(
    tmp_path: Path, cli: Cli, case_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import forensic.export.bag as bag_mod

    capture_two(cli, case_dir, tmp_path)
    original = bag_mod._BagWriter.copy
    calls = {"n": 0}

    def failing(self: Any, *args: Any, **kwargs: Any) -> None:
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("simulated crash mid-write")
        original(self, *args, **kwargs)

    monkeypatch.setattr(bag_mod._BagWriter, "copy", failing)
    for out in (tmp_path / "out" / "bag", tmp_path / "out" / "bag.zip"):
        calls["n"] = 0
        res = cli("export", "--case", case_dir, "--out", out)
        assert res.exit_code == 3, res.stderr
        assert not out.exists()
        assert not list((tmp_path / "out").iterdir())  # temp staging removed too
    assert Case.open(case_dir).entries()[-1].action != "export"
    assert cli("verify", "--case", case_dir).exit_code == 0


KILLER = """
import os, signal, sys
import forensic.export.bag as b
orig = b._BagWriter.copy
def copy(self, *a, **k):
    orig(self, *a, **k)
    os.kill(os.getpid(), signal.SIGKILL)
b._BagWriter.copy = copy
from forensic.cli import main
sys.argv = ["forensic", *sys.argv[1:]]
main()
"""


def test_killed_export_never_looks_complete(tmp_path: Path, cli: Cli, case_dir: Path) -> None:
    capture_two(cli, case_dir, tmp_path)
    parent = tmp_path / "out"
    parent.mkdir()
    for name in ("bag", "bag.zip"):
        out = parent / name
        proc = subprocess.run(
            [sys.executable, "-c", KILLER, "export", "--case", str(case_dir), "--out", str(out)],
            capture_output=True, text=True, timeout=60, env=dict(os.environ),
            cwd=Path(__file__).resolve().parent.parent,
        )  # fmt: skip
        assert proc.returncode == -signal.SIGKILL, proc.stderr
        assert not out.exists()
        leftovers = [p.name for p in parent.iterdir()]
        assert leftovers and all(n.startswith(f".{name}.partial-") for n in leftovers)
        for p in parent.iterdir():
            shutil.rmtree(p)
    assert Case.open(case_dir).entries()[-1].action != "export"
    # the killed exports' outside intents are still in tmp/: recover takes them (and logs it)
    assert cli("recover", "--case", case_dir).exit_code == 0
    assert cli("verify", "--case", case_dir).exit_code == 0
    export(cli, case_dir, parent / "bag")
    assert verify_sh(parent / "bag").returncode == 0
