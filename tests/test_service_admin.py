"""The case-administration use cases as a library, without the CLI: two examiners (two homes,
two sessions) on two cases in one process, interleaved; each case's log names only its own key."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from pyrage import x25519  # type: ignore[import-untyped]

from forensic.capture import capture_paths
from forensic.case import Case
from forensic.errors import CaseError, KeyringError
from forensic.service.case_setup import init_case, recover_case
from forensic.service.encryption import encrypt_evidence, share_evidence
from forensic.service.keys import create_certificate, import_certificate, show_key
from forensic.service.opening import open_case
from forensic.service.timestamping import choose_tsas, timestamp_case
from forensic.session import Session
from forensic.store.crypt import CryptError
from forensic.timestamp import TimestampUsageError, demo_tsa, load_config, stamp_after_write
from forensic.timestamp.examiner_cert import CERT_FILE, load_signing_key
from forensic.verify import verify_case
from tests.test_timestamp import Pki, TsaServer, pki, tsa_server  # noqa: F401  (fixtures)


@pytest.fixture(autouse=True)
def fast_scrypt(monkeypatch: pytest.MonkeyPatch) -> None:
    """age's default scrypt work factor costs ~1 s per wrap; tests use the minimum."""
    monkeypatch.setenv("FORENSIC_AGE_WORK_FACTOR", "10")


class Examiner:
    """A session on its own home with its own passphrase, counting the times it was asked."""

    def __init__(self, home: Path, passphrase: str) -> None:
        self.asked = 0
        self.passphrase = passphrase
        self.session = Session(home=home, passphrase_provider=self._provide, lock_timeout=1)

    def _provide(self, _new: bool) -> str:
        self.asked += 1
        return self.passphrase


def _init(examiner: Examiner, path: Path, case_id: str, *, encrypt: bool = False) -> Case:
    result = init_case(
        examiner.session,
        path,
        case_id=case_id,
        title=f"case {case_id}",
        examiner=case_id,
        encrypt=encrypt,
    )
    return result.case


def _capture(examiner: Examiner, case: Case, folder: Path, data: bytes) -> None:
    folder.mkdir()
    (folder / "evidence.bin").write_bytes(data)
    capture_paths(case, examiner.session.unlock(), [bytes(folder)])


def _actions(case: Case) -> list[str]:
    return [e.action for e in Case.open(case.root, case.session).entries()]


def _actors(case: Case) -> set[str]:
    return {e.actor for e in Case.open(case.root, case.session).entries()}


def _intact(case: Case) -> bool:
    return verify_case(Case.open(case.root, case.session)).intact


def test_two_examiners_two_cases_interleaved(tmp_path: Path) -> None:
    alice = Examiner(tmp_path / "home-alice", "alpha passphrase")
    bob = Examiner(tmp_path / "home-bob", "bravo passphrase")

    first = init_case(
        alice.session, tmp_path / "A", case_id="A-1", title="A", examiner="Alice", encrypt=True
    )
    second = init_case(bob.session, tmp_path / "B", case_id="B-1", title="B", examiner="Bob")
    assert first.key_created and second.key_created
    assert first.key_fingerprint != second.key_fingerprint
    assert first.recipient is not None and second.recipient is None
    doc = first.as_dict()
    assert doc["ok"] is True and doc["key_created"] is True and doc["path"] == str(first.case.root)
    assert doc["case"]["encryption"]["recipients"] == [first.recipient]
    assert doc["entry"]["action"] == "init" and doc["entry"]["actor"] == first.key_fingerprint
    assert (first.case.root / "keys" / "case-identity.age").is_file()
    assert (first.case.root / "verify.sh").is_file() and (second.case.root / "verify.sh").is_file()
    case_a, case_b = first.case, second.case

    _capture(alice, case_a, tmp_path / "src-a", b"alice's evidence " * 50)
    _capture(bob, case_b, tmp_path / "src-b", b"bob's evidence " * 50)
    encrypted = encrypt_evidence(bob.session, case_b.root)
    assert encrypted.as_dict()["ok"] is True
    assert encrypted.as_dict()["encrypt"]["objects"] == 1
    lawyer = str(x25519.Identity.generate().to_public())
    shared = share_evidence(alice.session, [lawyer], case_a.root)
    assert shared.as_dict()["share"]["added"] == [lawyer]
    assert shared.rekey.recipients == (first.recipient, lawyer)

    assert _actions(case_a)[:2] == ["init", "capture-group"] and _actions(case_a)[-1] == "share"
    assert _actions(case_b)[-1] == "encrypt"
    assert _actors(case_a) == {first.key_fingerprint}
    assert _actors(case_b) == {second.key_fingerprint}
    assert alice.asked == 1 and bob.asked == 1  # each session asked its own examiner once
    assert _intact(case_a) and _intact(case_b)
    assert verify_case(open_case(alice.session, case_a.root), decrypt=True).intact
    assert verify_case(open_case(bob.session, case_b.root), decrypt=True).intact


def test_one_sessions_key_and_identity_never_serve_another(tmp_path: Path) -> None:
    alice = Examiner(tmp_path / "home-alice", "alpha passphrase")
    bob = Examiner(tmp_path / "home-bob", "bravo passphrase")
    case_a = _init(alice, tmp_path / "A", "A-1", encrypt=True)
    _init(bob, tmp_path / "B", "B-1")
    # Alice's session holds the case identity unwrapped...
    crypto_a = open_case(alice.session, case_a.root).store.crypto
    assert crypto_a is not None and crypto_a.identity() is not None
    # ...Bob's session, in the same process, gets neither it nor Alice's examiner key.
    crypto_b = open_case(bob.session, case_a.root).store.crypto
    assert crypto_b is not None
    with pytest.raises(CryptError) as wrong:
        crypto_b.identity()
    assert wrong.value.key == "wrong_passphrase"
    assert bob.session.key is not alice.session.key
    log_before = (case_a.root / "custody" / "log.jsonl").read_bytes()
    for write in (
        lambda: recover_case(bob.session, case_a.root),
        lambda: timestamp_case(bob.session, case_a.root, tsas=[demo_tsa()], timeout=5),
        lambda: share_evidence(
            bob.session, [str(x25519.Identity.generate().to_public())], case_a.root
        ),
    ):
        with pytest.raises(KeyringError) as refused:
            write()
        assert refused.value.key == "key_not_case_key"
    assert (case_a.root / "custody" / "log.jsonl").read_bytes() == log_before


def test_recover_after_a_planted_interruption(tmp_path: Path) -> None:
    alice = Examiner(tmp_path / "home", "alpha passphrase")
    case = _init(alice, tmp_path / "A", "A-1", encrypt=True)
    _capture(alice, case, tmp_path / "src", b"evidence " * 100)
    (case.root / "tmp" / "0123abcd.part").write_bytes(b"half a fi")
    orphan_bytes = b"stored, synced, never logged"
    digest = hashlib.sha256(orphan_bytes).hexdigest()
    orphan = case.root / "objects" / "sha256" / digest[:2] / digest
    orphan.parent.mkdir(exist_ok=True)
    orphan.write_bytes(orphan_bytes)
    # the run's intent named the object before placing it (recovery quarantines only that)
    intent = {"run": "run-cut", "objects": [f"objects/sha256/{digest[:2]}/{digest}"]}
    (case.root / "tmp" / "run-cut.intent.json").write_text(json.dumps(intent))
    torn = b'{"action":"capture","actor":"00'
    with (case.root / "custody" / "log.jsonl").open("ab") as fh:
        fh.write(torn)
    assert not _intact(case)

    result = recover_case(alice.session, case.root)
    recovered = result.as_dict()["recovered"]
    assert result.as_dict()["ok"] is True
    assert recovered["partial_files"] == ["0123abcd.part"]
    assert recovered["quarantined_objects"] == [f"objects/sha256/{digest[:2]}/{digest}"]
    assert recovered["torn_log_bytes"] == len(torn)
    assert _actions(case)[-1] == "recover"
    assert _intact(case)
    again = recover_case(alice.session, case.root)
    assert again.recovery.empty and again.as_dict() == {"ok": True, "recovered": None}


def test_key_show_and_certificates(tmp_path: Path) -> None:
    alice = Examiner(tmp_path / "home-alice", "alpha passphrase")
    made = init_case(alice.session, tmp_path / "A", case_id="A-1", title="A", examiner="Alice")
    shown = show_key(alice.session)
    assert shown.fingerprint == made.key_fingerprint and shown.home == alice.session.home
    assert shown.as_dict()["key"] == {
        "path": str(alice.session.home),
        "fingerprint": made.key_fingerprint,
        "created": shown.created,
        "kdf": "argon2id",
    }
    cert = create_certificate(alice.session, name="Alice Kim", organisation="Lab")
    assert not cert.key_created and not cert.cert.imported
    doc = cert.as_dict()["certificate"]
    assert doc["path"] == str(alice.session.home / CERT_FILE) and "Alice Kim" in doc["subject"]
    with pytest.raises(TimestampUsageError) as exists:
        create_certificate(alice.session)
    assert exists.value.key == "cert_exists"

    # A key verb in an empty home creates that examiner's key (only init and key verbs may).
    carol = Examiner(tmp_path / "home-carol", "charlie passphrase")
    home_a = alice.session.home
    exported = tmp_path / "alice-key.pem"  # the key as an organisation hands it out (PKCS#8)
    exported.write_bytes(
        load_signing_key(home_a, alice.passphrase).key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(b"org password"),
        )
    )
    imported = import_certificate(
        carol.session, home_a / CERT_FILE, exported, key_password="org password"
    )
    assert imported.key_created and imported.cert.imported
    assert imported.cert.fingerprint_sha256 == cert.cert.fingerprint_sha256
    assert show_key(carol.session).fingerprint not in (None, made.key_fingerprint)


def test_failure_modes(tmp_path: Path) -> None:
    alice = Examiner(tmp_path / "home-alice", "alpha passphrase")
    case = _init(alice, tmp_path / "A", "A-1")

    nobody = Examiner(tmp_path / "empty-home", "whatever")
    with pytest.raises(KeyringError) as no_key:
        show_key(nobody.session)
    assert no_key.value.key == "no_key"
    for write in (
        lambda: recover_case(nobody.session, case.root),
        lambda: encrypt_evidence(nobody.session, case.root),
        lambda: timestamp_case(nobody.session, case.root, tsas=[demo_tsa()], timeout=5),
    ):
        with pytest.raises(KeyringError) as refused:
            write()
        assert refused.value.key == "no_key"
    assert not nobody.session.home.exists() and nobody.asked == 0  # no key was created

    wrong = Examiner(alice.session.home, "not the passphrase")
    with pytest.raises(KeyringError) as bad:
        recover_case(wrong.session, case.root)
    assert bad.value.key == "wrong_passphrase"

    fresh = Examiner(tmp_path / "fresh-home", "delta passphrase")
    with pytest.raises(CaseError) as exists:
        _init(fresh, case.root, "A-2")
    assert exists.value.key == "case_exists"
    assert not fresh.session.home.exists()  # refused before any key was made

    with pytest.raises(CryptError) as bad_recipient:
        share_evidence(fresh.session, ["age1notakey"], case.root)
    assert bad_recipient.value.key == "bad_recipient" and fresh.asked == 0
    with pytest.raises(CryptError) as plain:
        share_evidence(alice.session, [str(x25519.Identity.generate().to_public())], case.root)
    assert plain.value.key == "not_encrypted"


def _configure(home: Path, toml: str) -> None:
    home.mkdir(parents=True, exist_ok=True)
    (home / "forensic.toml").write_text(toml, "utf-8")


def test_timestamp_against_the_demo_tsa(tmp_path: Path) -> None:
    alice = Examiner(tmp_path / "home", "alpha passphrase")
    case = _init(alice, tmp_path / "A", "A-1")
    demo = demo_tsa()
    stamped = timestamp_case(alice.session, case.root, tsas=[demo], timeout=5)
    doc = stamped.as_dict()
    assert doc["ok"] is True and doc["pending"] == 0 and doc["queued"] == []
    [token] = doc["tokens"]
    assert token["demo"] is True and token["trusted"] is False
    assert doc["entries"] == [e.seq for e in stamped.result.entries]
    assert _actions(case)[-1] == "timestamp"

    # No TSA configured and nothing queued: refused before the passphrase is asked.
    _configure(alice.session.home, "[timestamp]\ndefaults = false\n")
    asked = alice.asked
    fresh = Examiner(alice.session.home, alice.passphrase)
    with pytest.raises(TimestampUsageError) as no_tsa:
        timestamp_case(fresh.session, case.root)
    assert no_tsa.value.key == "no_tsa" and fresh.asked == 0 and alice.asked == asked
    with pytest.raises(TimestampUsageError) as root_needed:
        timestamp_case(fresh.session, case.root, urls=["https://tsa.invalid/"])
    assert root_needed.value.key == "root_needed"

    # An unreachable TSA is queued, not raised; the queue alone is then reason enough to run.
    (alice.session.home / "demo-root.der").write_bytes(demo.roots[0])
    offline = timestamp_case(
        fresh.session,
        case.root,
        urls=["http://127.0.0.1:9/tsa"],
        roots=[alice.session.home / "demo-root.der"],
        timeout=2,
    )
    assert offline.pending == 1 and len(offline.result.queued) == 1
    assert _actions(case)[-1] == "timestamp-queued"
    retried = timestamp_case(fresh.session, case.root, timeout=2)
    assert retried.pending == 1


def test_stamp_after_write_reads_the_case_sessions_home(
    tmp_path: Path,
    tsa_server: TsaServer,  # noqa: F811  (the fixture imported above)
    pki: Pki,  # noqa: F811
) -> None:
    alice = Examiner(tmp_path / "home", "alpha passphrase")
    case = _init(alice, tmp_path / "A", "A-1")
    key = alice.session.unlock()
    assert stamp_after_write(case, key) is None  # auto is off by default
    url = tsa_server.url("ok")  # a real RFC 3161 TSA (openssl ts) on 127.0.0.1
    (alice.session.home / "test-root.pem").write_bytes(pki.root.read_bytes())
    _configure(
        alice.session.home,
        "[timestamp]\nauto = true\ndefaults = false\ntimeout = 5\n"
        f'[[timestamp.tsa]]\nname = "local"\nurl = "{url}"\nroots = "test-root.pem"\n',
    )
    config = load_config(alice.session.home)
    assert [t.url for t in choose_tsas(config, [url])] == [url]
    result = stamp_after_write(case, key)
    assert result is not None and len(result.tokens) == 1
    assert _actions(case)[-1] == "timestamp"
