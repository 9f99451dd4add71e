"""Tamper campaign, encrypted variant: seeded random single mutations of an encrypted case, of its
export bag and of its ``export --decrypt`` bag (plaintext inside).

The case is made through the CLI with ``init --encrypt``: generated images and a chat folder, a
Telegram export (ciphertext transcript), ``analyze --metadata --detect`` (ciphertext metadata,
analysis JSON and figures), a demo-TSA timestamp, a signed report (ciphertext PDF) and ``share``
with an ``age-keygen`` recipient, so every object and derived file has been re-encrypted and the
log holds ``share`` records (old -> new ciphertext). Its bags come from ``export`` and
``export --decrypt``.

Every mutation the plain campaign draws (tests/test_tamper_campaign.py, same expectations) is
drawn here too, plus encryption-specific ones:

* ``age_header_flip`` / ``age_payload_flip``: one bit of an age file (object or derived file),
  in its header (stanzas, MAC) or in its payload (ChaCha20-Poly1305 chunks);
* ``age_swap``: two age files exchange their bytes (both are named);
* ``age_reencrypt``: an age file replaced by a *valid* age encryption of different plaintext to
  the case's own recipients (``keys/recipients.txt``): only the recorded ciphertext SHA-256 can
  catch it without a key;
* ``recipients_edit``: ``keys/recipients.txt`` gains, loses or swaps a recipient;
* ``encryption_record_edit``: ``case.json``'s ``encryption`` record (recipients, identity file,
  scheme) is edited;
* ``identity_swap`` (case): ``keys/case-identity.age`` replaced by a new identity, or by the same
  identity re-wrapped, under the same passphrase; ``identity_add`` (bags): the wrapped identity,
  which a bag must never hold, added to it;
* ``plaintext_sha_edit``: one ``plaintext_sha256`` of a log line changed (the line stays
  canonical JSON): the signature names the line;
* ``plaintext_alter`` / ``plaintext_swap`` (``--decrypt`` bag): a decrypted file under
  ``data/plaintext/`` changed, or two of them exchanged.

A case is checked by ``forensic verify`` without a key (the verify_case engine), by
``forensic verify --decrypt`` (the case identity unwrapped with the passphrase; a command that
stops with its one-line error counts as detecting when the line names the file) and by the pristine
``verify.sh``; a bag by the pristine bag ``verify.sh``. verify checks ciphertext first: a changed
ciphertext is reported as ``object_altered`` / ``file_altered`` in both modes (its plaintext is
only decrypted when the ciphertext is the recorded one).

CI runs a small seeded subset (4 random mutations of the case and 2 of each bag, plus every
encryption-specific kind once, spread over the three targets: ~20 verify.sh runs).
``FORENSIC_TAMPER_ENC_N=N`` (or ``FORENSIC_SLOW=1``: 520) draws N mutations of the case and N/2 of
each bag, and forces every applicable kind into every target; ``FORENSIC_TAMPER_REPORT=path``
appends the results tables (markdown).
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import re
import shutil
import subprocess
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import pyrage  # type: ignore[import-untyped]
import pytest
import rfc8785
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from pyrage import x25519

from forensic.case import Case
from forensic.custody.keys import unlock_key
from forensic.demo import generate_media
from forensic.errors import ForensicError
from forensic.service.demo import run_demo
from forensic.store import age_passphrase, crypt
from forensic.timestamp import demo_tsa, stamp_head
from forensic.verify import verify_case
from forensic.verify.script import verify_script
from tests.chatexports import make_telegram_json
from tests.conftest import PASSPHRASE, REPO, Cli, examiner_session
from tests.test_tamper_campaign import (
    SEED,
    SLOW,
    Mutation,
    Planner,
    _localised,
    _py_verify,
    _report,
    _run_sh,
    _write,
)

PER_CASE = int(os.environ.get("FORENSIC_TAMPER_ENC_N", "520" if SLOW else "4"))
"""Random mutations of the case; each bag gets half as many (the export: as many as the case)."""
FULL = SLOW or "FORENSIC_TAMPER_ENC_N" in os.environ
AGE = b"age-encryption.org/v1\n"
WORK_FACTOR = "10"  # scrypt 2^10 for the wrapped identity: tests only (decision 0013)
ENC_KINDS = (
    "age_header_flip",
    "age_payload_flip",
    "age_swap",
    "age_reencrypt",
    "recipients_edit",
    "encryption_record_edit",
    "identity_swap",
    "plaintext_sha_edit",
    "plaintext_alter",
    "plaintext_swap",
    "plaintext_delete",
)
CI_FORCED = {
    "case": ENC_KINDS[:8],
    "bag": ("identity_swap",),
    "pbag": ("plaintext_alter", "plaintext_swap", "plaintext_delete"),
}
"""In CI (every verify.sh run costs ~2 s of CPU) each encryption-specific kind is forced once,
spread over the targets; a full run forces every kind that applies into every target."""

needs_age = pytest.mark.skipif(shutil.which("age-keygen") is None, reason="needs age-keygen")


@dataclass(frozen=True)
class EncOutcome:
    mutation: Mutation
    # (detected, localised) per checker; None where the checker does not apply (bags).
    py: tuple[bool, bool] | None
    py_dec: tuple[bool, bool] | None
    sh: tuple[bool, bool]
    where: tuple[str, ...]


class EncPlanner(Planner):
    """The plain campaign's mutations plus those that only an encrypted case or bag has."""

    def __init__(
        self, root: Path, prefix: str, foreign: Path, attacker: Ed25519PrivateKey, kind: str
    ) -> None:
        super().__init__(root, prefix, foreign, attacker)
        self.kind = kind  # "case", "bag" or "pbag"
        self.age_files = [
            f
            for f in self.files
            if not f.startswith((prefix + "keys/", prefix + "plaintext/"))
            and self.data(f).startswith(AGE)
        ]
        self.plain_files = [f for f in self.files if f.startswith(prefix + "plaintext/")]
        self.recipients = [
            x25519.Recipient.from_str(line)
            for line in self.data(prefix + "keys/recipients.txt").decode().splitlines()
            if line.startswith("age1")
        ]
        self.outsider = x25519.Identity.generate().to_public()

    def draw(self, n: int, rng: random.Random) -> Mutation:
        # Half of the draws are encryption-specific, half are the plain campaign's.
        if rng.random() < 0.5:
            return super().draw(n, rng)
        while True:
            m: Mutation | None = getattr(self, "_" + rng.choice(ENC_KINDS))(n, rng)
            if m is not None:
                return m

    def _age_flip(self, n: int, rng: random.Random, header: bool) -> Mutation:
        rel = rng.choice(self.age_files)
        data = self.data(rel)
        end = data.index(b"\n", data.index(b"\n---") + 1) + 1  # header ends after the MAC line
        off = rng.randrange(end) if header else rng.randrange(end, len(data))
        bit = 1 << rng.randrange(8)

        def apply(root: Path) -> None:
            buf = bytearray(data)
            buf[off] ^= bit
            _write(root / rel, bytes(buf))

        kind = "age_header_flip" if header else "age_payload_flip"
        return Mutation(n, kind, f"{rel}@{off}^{bit}", ((rel,),), apply)

    def _age_header_flip(self, n: int, rng: random.Random) -> Mutation:
        return self._age_flip(n, rng, header=True)

    def _age_payload_flip(self, n: int, rng: random.Random) -> Mutation:
        return self._age_flip(n, rng, header=False)

    def _age_swap(self, n: int, rng: random.Random) -> Mutation | None:
        a, b = rng.sample(self.age_files, 2)
        da, db = self.data(a), self.data(b)
        if da == db:
            return None

        def apply(root: Path) -> None:
            _write(root / a, db)
            _write(root / b, da)

        return Mutation(n, "age_swap", f"{a}<->{b}", ((a,), (b,)), apply)

    def _age_reencrypt(self, n: int, rng: random.Random) -> Mutation:
        """A valid age file to the case's own recipients, of other plaintext."""
        rel = rng.choice(self.age_files)
        size = max(1, len(self.data(rel)) - 200)
        data = pyrage.encrypt(rng.randbytes(size), self.recipients)

        def apply(root: Path) -> None:
            _write(root / rel, data)

        return Mutation(n, "age_reencrypt", rel, ((rel,),), apply)

    def _recipients_edit(self, n: int, rng: random.Random) -> Mutation:
        rel = self.prefix + "keys/recipients.txt"
        lines = self.data(rel).decode().splitlines()
        outsider = str(self.outsider)
        how = rng.choice(("add", "drop", "replace", "comment"))
        if how == "add":
            lines.append(outsider)
        elif how == "drop":
            lines = lines[:-1]
        elif how == "replace":
            lines[-1] = outsider
        else:
            lines[0] = lines[0] + " (edited)"
        new = ("\n".join(lines) + "\n").encode()

        def apply(root: Path) -> None:
            _write(root / rel, new)

        return Mutation(n, "recipients_edit", f"{rel} ({how})", ((rel,),), apply)

    def _encryption_record_edit(self, n: int, rng: random.Random) -> Mutation:
        rel = self.prefix + "case.json"
        info = json.loads(self.data(rel))
        enc = info["encryption"]
        how = rng.choice(("add", "drop", "replace", "identity_file", "scheme", "remove"))
        if how == "add":
            enc["recipients"].append(str(self.outsider))
        elif how == "drop":
            enc["recipients"].pop()
        elif how == "replace":
            enc["recipients"][rng.randrange(len(enc["recipients"]))] = str(self.outsider)
        elif how == "identity_file":
            enc["identity_file"] = "keys/other-identity.age"
        elif how == "scheme":
            enc["scheme"] = "age-x25519-v2"
        else:
            del info["encryption"]
        new = (json.dumps(info, indent=2, ensure_ascii=False) + "\n").encode()

        def apply(root: Path) -> None:
            _write(root / rel, new)

        return Mutation(n, "encryption_record_edit", f"{rel} ({how})", ((rel,),), apply)

    def _identity_swap(self, n: int, rng: random.Random) -> Mutation:
        rel = self.prefix + "keys/case-identity.age"
        if self.kind != "case":
            # A bag never holds the wrapped identity: adding one must be named.
            data = crypt.wrap_identity(x25519.Identity.generate(), PASSPHRASE, "2026-01-01")

            def add(root: Path) -> None:
                _write(root / rel, data)

            return Mutation(n, "identity_swap", f"{rel} (added)", ((rel,),), add)
        if rng.random() < 0.5:
            how = "new identity"
            data = crypt.wrap_identity(x25519.Identity.generate(), PASSPHRASE, "2026-01-01")
        else:
            how = "same identity re-wrapped"
            data = age_passphrase.encrypt(
                age_passphrase.decrypt(self.data(rel), PASSPHRASE), PASSPHRASE
            )

        def apply(root: Path) -> None:
            _write(root / rel, data)

        return Mutation(n, "identity_swap", f"{rel} ({how})", ((rel,),), apply)

    def _plaintext_sha_edit(self, n: int, rng: random.Random) -> Mutation:
        lines = self._split(self.log)
        ks = [i for i, x in enumerate(lines, 1) if b'"plaintext_sha256":"' in x]
        k = rng.choice(ks)
        found = list(re.finditer(rb'"plaintext_sha256":"([0-9a-f]{64})"', lines[k - 1]))
        hit = rng.choice(found)
        other = hashlib.sha256(hit.group(1)).hexdigest().encode()
        line = lines[k - 1][: hit.start(1)] + other + lines[k - 1][hit.end(1) :]
        assert rfc8785.dumps(json.loads(line)) == line  # still canonical: only the signature
        new = list(lines)
        new[k - 1] = line

        def apply(root: Path) -> None:
            _write(root / self.log, self._join(new))

        return Mutation(n, "plaintext_sha_edit", f"{self.log}:{k}", ((f"{self.log}:{k}",),), apply)

    def _plaintext_alter(self, n: int, rng: random.Random) -> Mutation | None:
        if not self.plain_files:
            return None
        rel = rng.choice(self.plain_files)
        data = self.data(rel)
        how = rng.choice(("flip", "append", "truncate"))
        if how == "flip":
            buf = bytearray(data)
            buf[rng.randrange(len(buf))] ^= 1 << rng.randrange(8)
            new = bytes(buf)
        elif how == "append":
            new = data + b"\n"
        else:
            new = data[: rng.randrange(len(data))]

        def apply(root: Path) -> None:
            _write(root / rel, new)

        return Mutation(n, "plaintext_alter", f"{rel} ({how})", ((rel,),), apply)

    def _plaintext_swap(self, n: int, rng: random.Random) -> Mutation | None:
        if len(self.plain_files) < 2:
            return None
        a, b = rng.sample(self.plain_files, 2)
        da, db = self.data(a), self.data(b)
        if da == db:
            return None

        def apply(root: Path) -> None:
            _write(root / a, db)
            _write(root / b, da)

        return Mutation(n, "plaintext_swap", f"{a}<->{b}", ((a,), (b,)), apply)

    def _plaintext_delete(self, n: int, rng: random.Random) -> Mutation | None:
        """A decrypted item deleted with its manifest line, bag-info's count lowered and both
        manifests regenerated: what anyone holding the bag can do without a key."""
        items = [f for f in self.plain_files if f.startswith(self.prefix + "plaintext/sha256/")]
        if not items:
            return None
        rel = rng.choice(items)
        manifest = b"".join(
            line + b"\n"
            for line in self.data("manifest-sha256.txt").split(b"\n")
            if line and not line.endswith(b"  " + rel.encode())
        )
        info = re.sub(
            r"(?m)^(Forensic-Plaintext-Objects: )(\d+)",
            lambda m: m[1] + str(int(m[2]) - 1),
            self.data("bag-info.txt").decode(),
        ).encode()

        def apply(root: Path) -> None:
            os.unlink(root / rel)
            _write(root / "manifest-sha256.txt", manifest)
            _write(root / "bag-info.txt", info)
            tags = ("bagit.txt", "bag-info.txt", "manifest-sha256.txt", "verify.sh", "VERIFY.md")
            lines = "".join(
                f"{hashlib.sha256((root / t).read_bytes()).hexdigest()}  {t}\n" for t in tags
            )
            _write(root / "tagmanifest-sha256.txt", lines.encode())

        return Mutation(n, "plaintext_delete", rel, ((rel,),), apply)


# -- the encrypted case and its bags ---------------------------------------------------------------


def _build(base: Path) -> None:
    """An encrypted case (through the CLI) with every kind of ciphertext, and its two bags."""
    from tests.test_report import make_test_ca

    cli = Cli()
    case = base / "case"

    def ok(*args: str | os.PathLike[str]) -> None:
        res = cli(*args)
        assert res.exit_code == 0, (args, res.stdout, res.stderr)

    ok(
        "init",
        case,
        "--case-id",
        "ENC-TAMPER-1",
        "--title",
        "Tamper",
        "--examiner",
        "Ex",
        "--encrypt",
    )
    media = generate_media(base / "src")
    chat = make_telegram_json(base / "tg")
    ok("capture", media, chat, "--case", case)
    ok("analyze", "--metadata", "--detect", "--all", "--case", case)
    stamp_head(
        Case.open(case, examiner_session()),
        unlock_key(base / "home", PASSPHRASE),
        [demo_tsa()],
        timeout=5,
    )  # trusted time, offline (demo TSA): timestamps/ for token_swap
    _ca, cert, key = make_test_ca(base)
    ok("key", "cert", "--import", cert, key)
    ok("report", "--case", case, "--demo-tsa")
    lawyer = base / "lawyer.txt"
    subprocess.run(["age-keygen", "-o", str(lawyer)], check=True, capture_output=True)
    pub = next(ln.split(": ")[1] for ln in lawyer.read_text().splitlines() if "public key" in ln)
    ok("share", "--recipient", pub, "--case", case)
    ok("export", "--out", base / "bag", "--case", case)
    ok("export", "--out", base / "pbag", "--decrypt", "--case", case)


@pytest.fixture(scope="module")
def encrypted(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    if shutil.which("age-keygen") is None:
        pytest.skip("needs age-keygen")
    base = tmp_path_factory.mktemp("enc-campaign")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("FORENSIC_HOME", str(base / "home"))
        mp.setenv("FORENSIC_PASSPHRASE", PASSPHRASE)
        mp.setenv("FORENSIC_LANG", "en")
        mp.setenv("FORENSIC_AGE_WORK_FACTOR", WORK_FACTOR)
        mp.delenv("FORENSIC_CASE", raising=False)
        _build(base)
        run_demo(base / "other")
    # the campaign measures checkers without any anchor: the home that built the case forgets
    # it (with its record, a cut tail is found there: tests/test_hostile_defence_trust.py)
    shutil.rmtree(base / "home" / "known-cases")
    return base, base / "other" / "case"


def _py_verify_decrypt(case_root: Path, home: Path) -> tuple[bool, tuple[str, ...]]:
    """``forensic verify --decrypt``: a one-line error (identity not unwrappable, case.json not
    usable) counts when it names the file, like the verb's stderr."""
    try:
        case = Case.open(case_root, examiner_session(home))
        report = verify_case(case, decrypt=True)
    except ForensicError as exc:
        return True, (exc.diagnostics("en").replace(f"{case_root}/", ""),)
    where = tuple(f"{p.location} {p.kind} {p.detail}" for p in report.problems)
    return not report.intact, where


def _trial(m: Mutation, pristine: Path, script: Path, work: Path, kind: str) -> EncOutcome:
    root = work / f"t{m.n:04d}"
    shutil.copytree(pristine, root, symlinks=True)
    m.apply(root)
    py = py_dec = None
    where: tuple[str, ...] = ()
    if kind == "case":
        det, w1 = _py_verify(root)
        py = (det, _localised(m, w1))
        det, w2 = _py_verify_decrypt(root, pristine.parent / "home")
        py_dec = (det, _localised(m, w2))
        where = w1[:3] + w2[:3]
    rc, sh_where = _run_sh(script, root)
    shutil.rmtree(root, ignore_errors=True)
    return EncOutcome(m, py, py_dec, (rc == 1, _localised(m, sh_where)), where + sh_where[:3])


def _count(kind: str) -> int:
    return PER_CASE if kind == "case" else (PER_CASE + 1) // 2


def _campaign(
    encrypted: tuple[Path, Path], tmp_path: Path, kind: str
) -> tuple[list[EncOutcome], float]:
    base, foreign = encrypted
    if kind == "case":
        pristine, prefix = base / "case", ""
        script = tmp_path / "case-verify.sh"
        script.write_bytes(verify_script())
    else:
        pristine, prefix = base / kind, "data/"
        script = tmp_path / "bag-verify.sh"
        script.write_bytes((REPO / "templates" / "export" / "verify.sh").read_bytes())
    rc, where = _run_sh(script, pristine)
    assert rc == 0, where
    if kind == "case":
        assert _py_verify(pristine) == (False, ())
        assert _py_verify_decrypt(pristine, base / "home") == (False, ())
    planner = EncPlanner(pristine, prefix, foreign, Ed25519PrivateKey.generate(), kind)
    rng = random.Random(SEED + {"case": 10, "bag": 11, "pbag": 12}[kind])
    count = _count(kind)
    mutations = [planner.draw(n, rng) for n in range(count)]
    # Encryption-specific kinds that must be in even a small run.
    for enc_kind in ENC_KINDS if FULL else CI_FORCED[kind]:
        if not any(m.kind == enc_kind for m in mutations):
            m = getattr(planner, "_" + enc_kind)(len(mutations), rng)
            if m is not None:
                mutations.append(m)
    work = tmp_path / "trials"
    work.mkdir()
    started = time.monotonic()
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=max(2, os.cpu_count() or 2)) as pool:
        outcomes = list(pool.map(lambda m: _trial(m, pristine, script, work, kind), mutations))
    return outcomes, time.monotonic() - started


def _table(title: str, outcomes: list[EncOutcome], seconds: float) -> str:
    by_kind: dict[str, list[EncOutcome]] = defaultdict(list)
    for o in outcomes:
        by_kind[o.mutation.kind].append(o)
    rows = [
        f"### {title}: {len(outcomes)} mutations, seed {SEED}, {seconds:.1f} s",
        "",
        "| kind | trials | verify det./loc. | verify --decrypt det./loc. | verify.sh det./loc. |",
        "|---|---:|---:|---:|---:|",
    ]
    for kind in sorted(by_kind):
        group = by_kind[kind]
        limit = [o for o in group if o.mutation.known_limit]
        note = f" ({len(limit)} known-limit)" if limit else ""

        def frac(attr: str, group: list[EncOutcome] = group) -> str:
            pairs = [getattr(o, attr) for o in group]
            if any(p is None for p in pairs):
                return "n/a (bag)"
            return f"{sum(p[0] for p in pairs)}/{sum(p[1] for p in pairs)}"

        rows.append(
            f"| {kind}{note} | {len(group)} | {frac('py')} | {frac('py_dec')} | {frac('sh')} |"
        )
    return "\n".join(rows) + "\n"


def _check(outcomes: list[EncOutcome]) -> None:
    failures = []
    for o in outcomes:
        m = o.mutation
        checks = [c for c in (o.py, o.py_dec, o.sh) if c is not None]
        if m.known_limit:
            if any(det for det, _loc in checks):
                failures.append(f"known-limit #{m.n} {m.kind} {m.target} is now detected")
            continue
        if not all(det and loc for det, loc in checks):
            failures.append(
                f"#{m.n} {m.kind} {m.target} expect={m.expect} py={o.py} dec={o.py_dec} "
                f"sh={o.sh} {o.where}"
            )
    assert not failures, f"{len(failures)} mutations missed:\n" + "\n".join(failures[:30])


@needs_age
@pytest.mark.parametrize(
    ("kind", "title"),
    [
        ("case", "Encrypted case (forensic verify, verify --decrypt, case verify.sh)"),
        ("bag", "Encrypted case's export bag (bag verify.sh)"),
        ("pbag", "Encrypted case's export --decrypt bag, plaintext inside (bag verify.sh)"),
    ],
)
def test_encrypted_tamper_campaign(
    encrypted: tuple[Path, Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    kind: str,
    title: str,
) -> None:
    monkeypatch.setenv("FORENSIC_AGE_WORK_FACTOR", WORK_FACTOR)
    outcomes, seconds = _campaign(encrypted, tmp_path, kind)
    _report(_table(title, outcomes, seconds))
    assert len(outcomes) >= _count(kind)
    kinds = {o.mutation.kind for o in outcomes}
    want = set(CI_FORCED[kind])
    if FULL:
        plain_only = {"plaintext_alter", "plaintext_swap", "plaintext_delete"}
        want = set(ENC_KINDS) - (set() if kind == "pbag" else plain_only)
    assert want <= kinds, want - kinds
    _check(outcomes)


@needs_age
@pytest.mark.parametrize("how", ["remove", "identity_file", "recipient0"])
def test_verify_decrypt_names_an_edited_encryption_record(
    encrypted: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    """Found by this campaign: with --decrypt, an edited encryption record steered decryption
    (no record: "this case is not encrypted" naming the folder; another identity_file: "No such
    file" naming that file) instead of naming case.json. Now decryption uses only a case.json
    and keys/ files that the log vouches for, and the report names case.json."""
    monkeypatch.setenv("FORENSIC_AGE_WORK_FACTOR", WORK_FACTOR)
    root = tmp_path / "case"
    shutil.copytree(encrypted[0] / "case", root)
    info = json.loads((root / "case.json").read_text())
    if how == "remove":
        del info["encryption"]
    elif how == "identity_file":
        info["encryption"]["identity_file"] = "keys/other-identity.age"
    else:
        info["encryption"]["recipients"][0] = str(x25519.Identity.generate().to_public())
    _write(root / "case.json", (json.dumps(info, indent=2) + "\n").encode())
    report = verify_case(Case.open(root, examiner_session(encrypted[0] / "home")), decrypt=True)
    assert [(p.kind, p.location) for p in report.problems] == [("file_altered", "case.json")]
    assert report.plaintext_checked == 0 and report.derived_plaintext_checked == 0
    if how == "remove":
        # The verb too (it unwraps the identity first only when case.json has a record).
        monkeypatch.setenv("FORENSIC_HOME", str(encrypted[0] / "home"))
        res = Cli()("verify", "--case", root, "--decrypt", "--no-record", "--json")
        assert res.exit_code == 1, res.stdout + res.stderr
        problems = json.loads(res.stdout)["problems"]
        assert [(p["kind"], p["location"]) for p in problems] == [("file_altered", "case.json")]
