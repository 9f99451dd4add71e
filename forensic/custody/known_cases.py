"""What this machine remembers of each case it wrote or verified: the key, the newest head.

A case folder is in the hands of whoever holds a copy: its key can be replaced and every line
re-signed, its log tail cut. Nothing inside the case can show that. The examiner's home can:
like SSH's ``known_hosts`` it pins a case's key fingerprint on first use, and like git's reflog
it remembers the newest committed head (seq and line hash) every write and every verification
saw. A case whose key differs from the pinned one, or whose log is shorter than or diverges
from the remembered head, is an integrity problem on this machine and is never appended to.

One small file per case, ``<home>/known-cases/<slot>.json`` (folder 0700, file 0600, atomic
replace, not fsynced: see :func:`_replace`), where ``slot`` is the first 32 hex digits of
SHA-256 over ``case_id``, a NUL and ``created``: the identity the case states in its signed
init entry and that every report prints. The init line's hash is not the key: re-signing the
case changes it, which would make a forged copy look like a new case here
(docs/decisions/0019-trust-known-cases.md).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import secrets
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from forensic._internal.clock import DEFAULT_TIMEZONE, local_and_utc, parse_utc, utc_timestamp
from forensic.custody.log import line_hash
from forensic.errors import EXIT_INTEGRITY, ForensicError, UsageError

KNOWN_DIR = "known-cases"
FORMAT = "forensic-known-case"
MIN_PREFIX = 16
"""Hex digits a third party must give of a key fingerprint or a head hash (64 bits)."""


class CaseHistoryError(ForensicError):
    """The case on disk contradicts what this machine remembers of it: nothing is written."""

    exit_code = EXIT_INTEGRITY


@dataclass(frozen=True)
class KnownCase:
    """This machine's record of one case."""

    case_id: str
    created: str
    key_fingerprint: str
    head_seq: int
    head_hash: str
    first_seen: str
    updated: str
    parties: tuple[str, ...] = ()
    """Fingerprints of parties pinned here (a receipt pins its sender's): each must stay a
    party of the case's log."""

    def as_dict(self) -> dict[str, Any]:
        return {
            "v": 1,
            "format": FORMAT,
            "case_id": self.case_id,
            "created": self.created,
            "key_fingerprint": self.key_fingerprint,
            "head_seq": self.head_seq,
            "head_hash": self.head_hash,
            "first_seen": self.first_seen,
            "updated": self.updated,
            "parties": list(self.parties),
        }


@dataclass(frozen=True)
class HistoryConflict:
    """Why a case contradicts the machine's record: ``key_changed``, ``log_rolled_back`` or
    ``log_diverged``; ``params`` fill the catalogue's ``error.trust.<kind>`` wording."""

    kind: str
    known: KnownCase
    params: dict[str, object]

    @property
    def detail(self) -> str:
        """The English line a verification's problem carries."""
        p = self.params
        if self.kind == "key_changed":
            return (
                f"this machine pinned key {p['pinned']} for this case on {p['seen']}; "
                f"the case now has key {p['actual']}"
            )
        if self.kind == "log_rolled_back":
            return (
                f"this machine saw the log up to seq {p['seq']} (hash {p['hash']}) on "
                f"{p['seen']}; it now ends at seq {p['last']}: entries were removed"
            )
        if self.kind == "parties.missing":
            return (
                f"this machine pinned party key {p['pinned']} for this case on {p['seen']}; "
                "the case's log no longer has it as a party"
            )
        return (
            f"entry seq {p['seq']} is not the one this machine saw on {p['seen']} "
            f"(hash {p['hash']}): the log was rewritten"
        )


def slot(case_id: str, created: str) -> str:
    return hashlib.sha256(f"{case_id}\0{created}".encode()).hexdigest()[:32]


def known_path(home: Path, case_id: str, created: str) -> Path:
    return home / KNOWN_DIR / f"{slot(case_id, created)}.json"


def load_known(home: Path, case_id: str, created: str) -> KnownCase | None:
    """The record of this case, or None (never seen, or an unreadable record: a damaged record
    pins nothing; the next write replaces it)."""
    try:
        doc = json.loads(known_path(home, case_id, created).read_text("utf-8"))
        if doc.get("format") != FORMAT or doc.get("case_id") != case_id:
            return None
        parse_utc(str(doc["first_seen"]))
        parse_utc(str(doc["updated"]))
        return KnownCase(
            case_id=case_id,
            created=created,
            key_fingerprint=str(doc["key_fingerprint"]),
            head_seq=int(doc["head_seq"]),
            head_hash=str(doc["head_hash"]),
            first_seen=str(doc["first_seen"]),
            updated=str(doc["updated"]),
            parties=tuple(str(p) for p in doc.get("parties") or ()),
        )
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None


def conflict(
    known: KnownCase | None, fingerprint: str, lines: list[bytes], zone: str = DEFAULT_TIMEZONE
) -> HistoryConflict | None:
    """How the case (its key fingerprint, its committed log lines) contradicts ``known``."""
    if known is None:
        return None
    if known.key_fingerprint != fingerprint:
        seen = local_and_utc(known.first_seen, zone).text()
        params: dict[str, object] = {
            "pinned": known.key_fingerprint,
            "actual": fingerprint,
            "seen": seen,
        }
        return HistoryConflict("key_changed", known, params)
    params = {
        "seq": known.head_seq,
        "hash": known.head_hash[:16],
        "seen": local_and_utc(known.updated, zone).text(),
        "last": len(lines) - 1,
    }
    if known.head_seq >= len(lines):
        return HistoryConflict("log_rolled_back", known, params)
    if line_hash(lines[known.head_seq]) != known.head_hash:
        return HistoryConflict("log_diverged", known, params)
    return None


def party_conflict(
    known: KnownCase, parties: set[str], zone: str = DEFAULT_TIMEZONE
) -> HistoryConflict | None:
    """A party this machine pinned that is no party of the log now (its key swapped)."""
    for pinned in known.parties:
        if pinned not in parties:
            seen = local_and_utc(known.updated, zone).text()
            return HistoryConflict("parties.missing", known, {"pinned": pinned, "seen": seen})
    return None


def remember(
    home: Path,
    case_id: str,
    created: str,
    fingerprint: str,
    lines: list[bytes],
    pin: tuple[str, ...] = (),
) -> KnownCase | None:
    """Record the case's key (first use) and its newest committed head; returns the record.

    Never moves the head back and never changes a pinned key (the caller checked
    :func:`conflict` first). Nothing is written when nothing changed.
    """
    if not lines:
        return None
    head_seq, head_hash = len(lines) - 1, line_hash(lines[-1])
    known = load_known(home, case_id, created)
    if known is not None and (known.key_fingerprint != fingerprint or known.head_seq > head_seq):
        return known
    parties = tuple(dict.fromkeys((*(known.parties if known else ()), *pin)))
    if (
        known is not None
        and (known.head_seq, known.head_hash) == (head_seq, head_hash)
        and parties == known.parties
    ):
        return known
    now = utc_timestamp()
    if known is None:
        known = KnownCase(case_id, created, fingerprint, head_seq, head_hash, now, now, parties)
    else:
        known = replace(known, head_seq=head_seq, head_hash=head_hash, updated=now, parties=parties)
    path = known_path(home, case_id, created)
    folder = path.parent
    if not home.is_dir():  # a third party's first verification: a private home, like the key's
        home.mkdir(mode=0o700, parents=True, exist_ok=True)
    folder.mkdir(mode=0o700, exist_ok=True)
    with contextlib.suppress(OSError):
        os.chmod(folder, 0o700)
    body = json.dumps(known.as_dict(), indent=2, ensure_ascii=False).encode("utf-8") + b"\n"
    _replace(path, body)
    return known


def _replace(path: Path, body: bytes) -> None:
    """Atomic (a new file renamed over the old), mode 0600 from creation, not fsynced: every
    write of a case already waits for its log's fsyncs, and a crash that loses this update
    leaves an older head, still a true prefix of the durable log: never a false alarm."""
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(8)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(body)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


# -- what a third party pins ------------------------------------------------------------------
def _hex_prefix(value: str, option: str) -> str:
    text = value.strip().lower().removeprefix("sha256:")
    if len(text) < MIN_PREFIX or len(text) > 64 or any(c not in "0123456789abcdef" for c in text):
        raise UsageError("trust.bad_prefix", option=option, value=value[:80], digits=MIN_PREFIX)
    return text


def parse_expected_key(value: str) -> str:
    """``--expect-key``: at least 16 hex digits of the SHA-256 key fingerprint."""
    return _hex_prefix(value, "--expect-key")


@dataclass(frozen=True)
class ExpectedHead:
    """``--expect-head``: an entry hash (prefix), optionally at a given seq."""

    seq: int | None
    hash_prefix: str

    @classmethod
    def parse(cls, value: str) -> ExpectedHead:
        seq_text, sep, rest = value.strip().partition(":")
        if sep and seq_text.isascii() and seq_text.isdigit():
            return cls(int(seq_text), _hex_prefix(rest, "--expect-head"))
        return cls(None, _hex_prefix(value, "--expect-head"))

    def missing_from(self, lines: list[bytes]) -> str | None:
        """Why the log does not hold this head (None when it does): cut, or rewritten."""
        if self.seq is not None:
            if self.seq >= len(lines):
                return (
                    f"the log ends at seq {len(lines) - 1}, before the expected head seq "
                    f"{self.seq}: entries were removed"
                )
            if not line_hash(lines[self.seq]).startswith(self.hash_prefix):
                return f"entry seq {self.seq} does not have the expected hash {self.hash_prefix}"
            return None
        if any(line_hash(line).startswith(self.hash_prefix) for line in lines):
            return None
        return (
            f"no entry of the log has the expected hash {self.hash_prefix}: "
            "entries were removed or rewritten"
        )
