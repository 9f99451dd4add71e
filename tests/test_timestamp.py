"""Trusted time: a REAL RFC 3161 TSA (``openssl ts -reply``) on 127.0.0.1, and how it fails."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from asn1crypto import tsp
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from forensic.case import Case
from forensic.custody import config_home, load_or_create_key

pytestmark = pytest.mark.skipif(shutil.which("openssl") is None, reason="needs openssl")

NOW = dt.datetime.now(dt.UTC)


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _ca(cn: str) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(cn))
        .issuer_name(_name(cn))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW - dt.timedelta(days=30))
        .not_valid_after(NOW + dt.timedelta(days=365))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False), True
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
        .sign(key, hashes.SHA256())
    )
    return cert, key


def _tsa_cert(
    cn: str,
    ca: tuple[x509.Certificate, ec.EllipticCurvePrivateKey],
    *,
    expired: bool = False,
) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    key = ec.generate_private_key(ec.SECP256R1())
    start = NOW - dt.timedelta(days=20 if expired else 1)
    end = NOW - dt.timedelta(days=2) if expired else NOW + dt.timedelta(days=90)
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(cn))
        .issuer_name(ca[0].subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(True, True, False, False, False, False, False, False, False), True
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca[1].public_key()), False
        )
        .sign(ca[1], hashes.SHA256())
    )
    return cert, key


def _pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


@dataclass
class Pki:
    folder: Path
    root: Path  # the root the tests trust
    profiles: dict[str, Path]  # profile name -> openssl config file


def _profile(
    folder: Path, name: str, tsa, ca_cert: x509.Certificate, digests: str, ess: str = "sha256"
) -> Path:
    cert, key = tsa
    d = folder / name
    d.mkdir()
    (d / "tsa.pem").write_bytes(_pem(cert))
    (d / "tsa.key").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    (d / "chain.pem").write_bytes(_pem(ca_cert))
    (d / "serial").write_text("01\n")
    cfg = d / "tsa.cnf"
    cfg.write_text(
        f"""[ tsa ]
default_tsa = tsa_config1
[ tsa_config1 ]
dir = {d}
serial = $dir/serial
crypto_device = builtin
signer_cert = $dir/tsa.pem
certs = $dir/chain.pem
signer_key = $dir/tsa.key
signer_digest = sha256
default_policy = 1.2.3.4.1
other_policies = 1.2.3.4.5
digests = {digests}
accuracy = secs:1
ordering = yes
tsa_name = yes
ess_cert_id_chain = no
ess_cert_id_alg = {ess}
"""
    )
    return cfg


@pytest.fixture(scope="module")
def pki() -> Iterator[Pki]:
    folder = Path(tempfile.mkdtemp(prefix="forensic-test-pki-"))
    root = _ca("forensic TEST root CA")
    other = _ca("some OTHER root CA")
    (folder / "root.pem").write_bytes(_pem(root[0]))
    profiles = {
        "ok": _profile(folder, "ok", _tsa_cert("TEST TSA", root), root[0], "sha256, sha512"),
        "untrusted": _profile(
            folder, "untrusted", _tsa_cert("TSA of another CA", other), other[0], "sha256"
        ),
        "expired": _profile(
            folder, "expired", _tsa_cert("EXPIRED TSA", root, expired=True), root[0], "sha256"
        ),
        "sha1only": _profile(folder, "sha1only", _tsa_cert("SHA1 TSA", root), root[0], "sha1"),
        "essv1": _profile(
            folder, "essv1", _tsa_cert("ESS v1 TSA", root), root[0], "sha256", ess="sha1"
        ),
    }
    yield Pki(folder, folder / "root.pem", profiles)
    shutil.rmtree(folder, ignore_errors=True)


def _openssl_reply(cfg: Path, query: bytes) -> bytes:
    with tempfile.TemporaryDirectory() as tmp:
        q, r = Path(tmp) / "q.tsq", Path(tmp) / "r.tsr"
        q.write_bytes(query)
        subprocess.run(
            ["openssl", "ts", "-reply", "-config", str(cfg), "-queryfile", str(q), "-out", str(r)],
            check=True,
            capture_output=True,
        )
        return r.read_bytes()


class TsaServer:
    """``openssl ts -reply`` behind http.server; the path picks a behaviour."""

    def __init__(self, pki: Pki, port: int = 0) -> None:
        self.pki = pki
        self.flaky_fail = True
        self.requests: list[bytes] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                outer.requests.append(body)
                mode = self.path.strip("/")
                if mode == "sleep":
                    time.sleep(2.5)
                if mode == "500" or (mode == "flaky" and outer.flaky_fail):
                    self.send_response(500)
                    self.end_headers()
                    return
                if mode == "garbage":
                    return self._reply(b"\x30\x03this is not a TimeStampResp")
                req = tsp.TimeStampReq.load(body)
                if mode == "wrong-digest":
                    req = _with(req, hashed=b"\x11" * 32)
                if mode == "wrong-nonce":
                    req = _with(req, nonce=int(req["nonce"].native) + 1)
                profile = mode if mode in outer.pki.profiles else "ok"
                self._reply(_openssl_reply(outer.pki.profiles[profile], req.dump()))

            def _reply(self, data: bytes) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "application/timestamp-reply")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def url(self, mode: str) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/{mode}"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def _with(req: tsp.TimeStampReq, *, hashed: bytes | None = None, nonce: int | None = None):
    mi = req["message_imprint"]
    return tsp.TimeStampReq(
        {
            "version": 1,
            "message_imprint": tsp.MessageImprint(
                {
                    "hash_algorithm": mi["hash_algorithm"],
                    "hashed_message": hashed or mi["hashed_message"].native,
                }
            ),
            "nonce": nonce if nonce is not None else req["nonce"].native,
            "cert_req": True,
        }
    )


@pytest.fixture(scope="module")
def tsa_server(pki: Pki) -> Iterator[TsaServer]:
    server = TsaServer(pki)
    yield server
    server.close()


def _closed_port_url() -> str:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/tsa"


def _stamp(cli, case_dir: Path, url: str, root: Path, *extra: str):
    return cli(
        "timestamp",
        "--case",
        case_dir,
        "--tsa",
        url,
        "--tsa-root",
        root,
        "--timeout",
        "1",
        "--json",
        *extra,
    )


def _files_under(case_dir: Path, sub: str) -> list[str]:
    folder = case_dir / sub
    return sorted(p.name for p in folder.iterdir() if p.is_file()) if folder.is_dir() else []


# -- success -------------------------------------------------------------------------------
def test_stamp_through_cli_and_openssl_verifies(cli, case_dir, tsa_server, pki):
    head_before = Case.open(case_dir).log.head()
    res = _stamp(cli, case_dir, tsa_server.url("ok"), pki.root)
    assert res.exit_code == 0, res.stdout + res.stderr
    doc = json.loads(res.stdout)
    assert len(doc["tokens"]) == 1, doc["queued"][0]["message"] if doc["queued"] else doc
    [token] = doc["tokens"]
    assert token["head_hash"] == head_before[1]
    assert token["head_seq"] == head_before[0] - 1
    assert token["trusted"] is True and token["demo"] is False
    assert token["policy"] == "1.2.3.4.1"
    # the request sent was over the log head, with a nonce and certReq
    req = tsp.TimeStampReq.load(tsa_server.requests[-1])
    assert req["message_imprint"]["hashed_message"].native.hex() == head_before[1]
    assert req["message_imprint"]["hash_algorithm"]["algorithm"].native == "sha256"
    assert req["nonce"].native is not None and req["cert_req"].native is True
    # openssl agrees, independently
    tsr = case_dir / token["tsr"]
    chain = case_dir / token["chain"]
    out = subprocess.run(
        [
            "openssl",
            "ts",
            "-verify",
            "-digest",
            token["head_hash"],
            "-in",
            str(tsr),
            "-CAfile",
            str(pki.root),
            "-untrusted",
            str(chain),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert out.returncode == 0 and "Verification: OK" in out.stdout, out.stdout + out.stderr
    out = subprocess.run(
        [
            "openssl",
            "ts",
            "-verify",
            "-queryfile",
            str(case_dir / token["tsq"]),
            "-in",
            str(tsr),
            "-CAfile",
            str(pki.root),
            "-untrusted",
            str(chain),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    # one timestamp entry vouching for the three files
    entries = Case.open(case_dir).entries()
    ts = [e for e in entries if e.action == "timestamp"]
    assert len(ts) == 1
    paths = {f["path"] for f in ts[0].details["files"]}
    assert paths == {token["tsq"], token["tsr"], token["chain"]}
    # verify still passes, and re-verifies the token
    res = cli("verify", "--case", case_dir, "--json")
    assert res.exit_code == 0, res.stdout
    from forensic.timestamp import token_status, verify_tokens

    case = Case.open(case_dir)
    assert verify_tokens(case) == []
    # a root given with --tsa-root is no trust anchor at verify time: only shipped and
    # configured roots are, compared by certificate
    [check] = token_status(case)
    assert check.ok and not check.trusted and not check.demo
    home = config_home()
    shutil.copy(pki.root, home / "test-root.pem")
    (home / "forensic.toml").write_text(
        f'[[timestamp.tsa]]\nname = "Test TSA"\nurl = "{tsa_server.url("ok")}"\n'
        'roots = ["test-root.pem"]\n'
    )
    [check] = token_status(Case.open(case_dir))
    assert check.ok and check.trusted and not check.demo


def test_tampered_token_is_reported(cli, case_dir, tsa_server, pki):
    res = _stamp(cli, case_dir, tsa_server.url("ok"), pki.root)
    [token] = json.loads(res.stdout)["tokens"]
    tsr = case_dir / token["tsr"]
    tsr.chmod(0o644)
    data = bytearray(tsr.read_bytes())
    data[-5] ^= 0xFF
    tsr.write_bytes(bytes(data))
    from forensic.timestamp import verify_tokens

    problems = verify_tokens(Case.open(case_dir))
    assert problems and problems[0].area == "timestamp"
    assert cli("verify", "--case", case_dir, "--no-record").exit_code == 1


# -- failures: distinct messages, nothing stored, queued ------------------------------------
FAILURES = [
    ("unreachable", None, "cannot be reached"),
    ("timeout", "sleep", "did not answer within"),
    ("http_status", "500", "HTTP error 500"),
    ("garbage", "garbage", "not an RFC 3161"),
    ("wrong_digest", "wrong-digest", "stamped another hash"),
    ("wrong_nonce", "wrong-nonce", "not our nonce"),
    ("untrusted_root", "untrusted", "does not reach a trusted root"),
    ("cert_expired", "expired", "was not valid at the stamping time"),
    ("unsupported_hash", "sha1only", "does not accept sha256"),
    ("no_ess_cert_id", "essv1", "signing-certificate-v2"),
]


@pytest.mark.parametrize(("code", "mode", "text"), FAILURES, ids=[f[0] for f in FAILURES])
def test_failure_is_distinct_nothing_stored_and_queued(
    cli, case_dir, tsa_server, pki, code, mode, text
):
    url = _closed_port_url() if mode is None else tsa_server.url(mode)
    started = time.monotonic()
    res = _stamp(cli, case_dir, url, pki.root)
    assert time.monotonic() - started < 6
    assert res.exit_code == 0, res.stdout + res.stderr  # offline is not an error: queued
    doc = json.loads(res.stdout)
    assert doc["tokens"] == []
    [queued] = doc["queued"]
    assert queued["error"] == code
    assert text in queued["message"], queued["message"]
    assert not any(
        n.endswith((".tsr", ".tsq", ".pem")) for n in _files_under(case_dir, "timestamps")
    )
    assert len(_files_under(case_dir, "timestamps/queue")) == 1
    entries = Case.open(case_dir).entries()
    assert [e.action for e in entries].count("timestamp-queued") == 1
    assert not any(e.action == "timestamp" for e in entries)
    # human output names the failure too, in Korean as well
    res = cli(
        "timestamp",
        "--case",
        case_dir,
        "--tsa",
        url,
        "--tsa-root",
        pki.root,
        "--timeout",
        "1",
        "--lang",
        "ko",
    )
    assert res.exit_code == 0
    assert "대기열" in res.stderr, res.stderr
    # the retry failed too: still one request queued, no second request for that TSA
    assert len(_files_under(case_dir, "timestamps/queue")) == 1
    from forensic.timestamp import pending_queue

    assert len(pending_queue(Case.open(case_dir))) == 1
    # verify stays green: queue files are recorded
    assert cli("verify", "--case", case_dir, "--no-record").exit_code == 0


def test_queue_is_sent_later(cli, case_dir, tsa_server, pki):
    tsa_server.flaky_fail = True
    res = _stamp(cli, case_dir, tsa_server.url("flaky"), pki.root)
    doc = json.loads(res.stdout)
    assert res.exit_code == 0 and doc["queued"][0]["error"] == "http_status"
    queued_head = doc["head_hash"]
    tsa_server.flaky_fail = False
    res = _stamp(cli, case_dir, tsa_server.url("flaky"), pki.root)
    assert res.exit_code == 0, res.stdout
    doc = json.loads(res.stdout)
    assert doc["pending"] == 0
    heads = {t["head_hash"]: t for t in doc["tokens"]}
    assert queued_head in heads and heads[queued_head]["queue_id"]
    assert doc["head_hash"] in heads  # and the current head too
    from forensic.timestamp import pending_queue, verify_tokens

    case = Case.open(case_dir)
    assert pending_queue(case) == [] and verify_tokens(case) == []
    assert cli("verify", "--case", case_dir).exit_code == 0


def test_queue_only_run_and_no_tsa(cli, case_dir, forensic_env):
    (forensic_env).mkdir(parents=True, exist_ok=True)
    (forensic_env / "forensic.toml").write_text("[timestamp]\ndefaults = false\n")
    res = cli("timestamp", "--case", case_dir)
    assert res.exit_code == 2 and "no TSA" in res.stderr


# -- demo TSA, automatic stamping, config ---------------------------------------------------
def test_demo_tsa_tokens_are_untrusted_not_failures(case_dir):
    from forensic.timestamp import demo_tsa, stamp_head, token_status, verify_tokens
    from forensic.timestamp.demo import DEMO_LABEL

    tsa = demo_tsa()
    key, _ = load_or_create_key(config_home(), lambda _new: "correct horse battery staple")
    case = Case.open(case_dir)
    result = stamp_head(case, key, [tsa], timeout=1)
    [token] = result.tokens
    assert token.demo and not token.trusted
    chain = (case_dir / token.chain).read_text()
    assert chain.count("BEGIN CERTIFICATE") == 2
    from cryptography.x509 import load_pem_x509_certificate

    leaf = load_pem_x509_certificate(chain.encode())
    assert DEMO_LABEL in leaf.subject.rfc4514_string()
    assert verify_tokens(case) == []
    [check] = token_status(case)
    assert check.ok and check.demo and not check.trusted


def test_stamp_after_write_follows_config(case_dir, forensic_env, tsa_server, pki):
    from forensic.timestamp import stamp_after_write

    key, _ = load_or_create_key(config_home(), lambda _new: "correct horse battery staple")
    case = Case.open(case_dir)
    assert stamp_after_write(case, key) is None  # auto is off by default
    shutil.copy(pki.root, forensic_env / "test-root.pem")
    (forensic_env / "forensic.toml").write_text(
        "[timestamp]\nauto = true\ndefaults = false\ntimeout = 1\n\n"
        f'[[timestamp.tsa]]\nname = "Test TSA"\nurl = "{tsa_server.url("ok")}"\n'
        'roots = ["test-root.pem"]\n'
    )
    result = stamp_after_write(case, key)
    assert result is not None and len(result.tokens) == 1 and not result.queued
    assert result.tokens[0].tsa == "Test TSA"


def test_default_tsas_ship_real_roots():
    from forensic.timestamp import default_tsas

    tsas = default_tsas()
    assert len(tsas) == 2
    subjects = {c.subject.native["common_name"] for t in tsas for c in t.root_certs()}
    assert subjects == {"DigiCert Trusted Root G4", "USERTrust RSA Certification Authority"}


# -- examiner certificate -------------------------------------------------------------------
def test_key_cert_self_signed_and_import(cli, forensic_env, tmp_path):
    res = cli("key", "cert", "--name", "Kim Examiner", "--org", "Lab", "--json")
    assert res.exit_code == 0, res.stdout + res.stderr
    doc = json.loads(res.stdout)["certificate"]
    cert = x509.load_pem_x509_certificate(Path(doc["path"]).read_bytes())
    assert isinstance(cert.public_key(), ec.EllipticCurvePublicKey)
    assert cert.public_key().curve.name == "secp256r1"
    assert "Kim Examiner" in cert.subject.rfc4514_string()
    key_file = json.loads(Path(doc["key_path"]).read_bytes())
    assert key_file["kdf"]["name"] == "argon2id" and key_file["cipher"]["name"] == "aes-256-gcm"
    from forensic.timestamp.examiner_cert import load_signing_key

    load_signing_key(forensic_env, "correct horse battery staple")
    assert cli("key", "cert").exit_code == 2  # exists
    # an organisation-issued one
    ca = _ca("Org CA")
    leaf_key = ec.generate_private_key(ec.SECP256R1())
    leaf = (
        x509.CertificateBuilder()
        .subject_name(_name("Org Examiner"))
        .issuer_name(ca[0].subject)
        .public_key(leaf_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW)
        .not_valid_after(NOW + dt.timedelta(days=10))
        .sign(ca[1], hashes.SHA256())
    )
    (tmp_path / "c.pem").write_bytes(_pem(leaf))
    (tmp_path / "k.pem").write_bytes(
        leaf_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    (tmp_path / "wrong.pem").write_bytes(
        ec.generate_private_key(ec.SECP256R1()).private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    res = cli("key", "cert", "--import", tmp_path / "c.pem", tmp_path / "wrong.pem", "--force")
    assert res.exit_code == 2 and "do not belong together" in res.stderr
    res = cli("key", "cert", "--import", tmp_path / "c.pem", tmp_path / "k.pem", "--force")
    assert res.exit_code == 0, res.stderr
    assert "Org Examiner" in res.stdout


# -- network failures: worded in the user's language, the raw reason only in --json ------------
def test_refused_connection_is_worded_in_both_languages_raw_detail_in_json(cli, case_dir, pki):
    url = _closed_port_url()
    doc = json.loads(_stamp(cli, case_dir, url, pki.root).stdout)
    [queued] = doc["queued"]
    assert queued["error"] == "unreachable"
    assert "Connect call failed" in queued["message"] or "refused" in queued["message"].lower()
    record = json.loads(next((case_dir / "timestamps" / "queue").glob("*.json")).read_text())
    assert "cause" not in record and "reason" not in record  # on-disk shape unchanged
    for lang, wording in (
        ("en", "nothing answers at that address and port"),
        ("ko", "응답하는 서버가 없습니다"),
    ):
        res = cli(
            "timestamp", "--case", case_dir, "--tsa", url, "--tsa-root", pki.root,
            "--timeout", "1", "--lang", lang,
        )  # fmt: skip
        assert res.exit_code == 0, res.stdout + res.stderr
        out = " ".join((res.stdout + res.stderr).split())
        assert wording in out, out
        assert "Connect call failed" not in out and "Errno" not in out, out
        if lang == "ko":
            assert "cannot be reached" not in out and "queued" not in out, out


def test_network_causes_are_told_apart() -> None:
    import socket
    import ssl

    import aiohttp

    from forensic.timestamp.token import _network_cause

    key = aiohttp.client_reqrep.ConnectionKey("h", 443, True, True, None, None, None)
    dns = aiohttp.ClientConnectorDNSError(key, OSError(-2, "Name or service not known"))
    refused = aiohttp.ClientConnectorError(key, ConnectionRefusedError(111, "refused"))
    assert _network_cause(dns) == "dns"
    assert _network_cause(socket.gaierror(-2, "Name or service not known")) == "dns"
    assert _network_cause(refused) == "refused"
    assert _network_cause(ssl.SSLError(1, "bad handshake")) == "tls"
    assert _network_cause(ConnectionResetError(104, "reset")) == "reset"
    assert _network_cause(OSError(113, "No route to host")) == "other"


@pytest.mark.parametrize("cause", ["dns", "refused", "reset", "tls", "bad_url", "other"])
def test_network_wordings_exist_in_both_catalogues(cause: str) -> None:
    from forensic.timestamp.errors import TimestampError

    exc = TimestampError(
        "unreachable", tsa="TSA", url="http://x", reason="[Errno -2] raw", cause=cause
    )
    assert "raw" in exc.diagnostics("ko")  # the record / --json text keeps the detail
    for lang in ("en", "ko"):
        text = exc.for_reader(lang)
        assert "raw" not in text and "TSA" in text and "ts_error" not in text
    assert "cannot be reached" not in exc.for_reader("ko")
