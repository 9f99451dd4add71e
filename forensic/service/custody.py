"""``handover`` and ``receive``: custody passing from one person to another, both signing.

The sender records what is handed (the head, the item count, the bytes) and adds the receiver
as a party; the receiver verifies everything, pins the sender's key in their home and
countersigns the same head with a ``receipt`` (forensic.custody.parties).
"""

from __future__ import annotations

import hashlib
import os
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from forensic.case.case import tool_record
from forensic.custody.log import CustodyEntry, PendingEntry
from forensic.custody.parties import (
    HANDOVER,
    PARTY_ADD,
    RECEIPT,
    ROLES,
    Handover,
    handovers,
    party_record,
)
from forensic.errors import EXIT_INTEGRITY, ForensicError, KeyringError, UsageError
from forensic.progress import SILENT, ProgressReporter
from forensic.service.opening import open_case, open_for_writing, recovery_dict
from forensic.session import Session

if TYPE_CHECKING:
    from forensic.case import Case, RecoveryReport

BAG_LEFT_OUT = ("case-uco.jsonld", "plaintext")
"""What an export adds to a bag's ``data/`` that is no part of the case (left out on receipt)."""


class HandoverIntegrityError(ForensicError):
    """What was received does not verify, or does not match its hand-over: nothing written."""

    exit_code = EXIT_INTEGRITY


@dataclass(frozen=True)
class HandoverResult:
    handover: Handover
    entries: tuple[CustodyEntry, ...]
    party_added: bool
    shared: bool
    recovery: RecoveryReport

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": True,
            "recovered": recovery_dict(self.recovery),
            "handover": self.handover.as_dict(),
            "party_added": self.party_added,
            "reencrypted": self.shared,
            "entries": [e.as_dict() for e in self.entries],
        }


@dataclass(frozen=True)
class ReceiveResult:
    case_root: Path
    handover: Handover
    entry: CustodyEntry
    sender: str
    copied_from_bag: bool
    recovery: RecoveryReport

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": True,
            "case": str(self.case_root),
            "recovered": recovery_dict(self.recovery),
            "handover": self.handover.as_dict(),
            "receipt": self.entry.as_dict(),
            "sender_pinned": self.sender,
            "copied_from_bag": self.copied_from_bag,
        }


def read_recipient_key(path: Path) -> bytes:
    """The receiver's public key: a PEM file (``forensic key show --pem`` writes one)."""
    from forensic.custody.keys import load_public_pem

    try:
        pem = path.read_bytes()
        load_public_pem(pem)
    except OSError as exc:
        raise UsageError("custody.key_unreadable", path=str(path), reason=exc.strerror) from exc
    except (ValueError, KeyringError) as exc:
        raise UsageError("custody.key_not_ed25519", path=str(path)) from exc
    return pem


def _contents(case: Case, head_seq: int) -> tuple[int, int]:
    """Items and their bytes as of the entry at ``head_seq``."""
    items = case.items([e for e in case.entries() if e.seq <= head_seq])
    return len(items), sum(i.size for i in items.values())


def handover(
    session: Session,
    *,
    to_name: str,
    role: str,
    recipient_key: Path,
    organisation: str | None = None,
    age_recipients: Sequence[str] = (),
    case_dir: Path | None = None,
    progress: ProgressReporter = SILENT,
) -> HandoverResult:
    """Record a hand-over to another person (added as a party); an encrypted case is first
    re-encrypted to ``age_recipients`` (``share``) so the receiver can read it."""
    from forensic.custody.keys import fingerprint, load_public_pem

    if role not in ROLES:
        raise UsageError("custody.bad_role", role=role, roles=", ".join(ROLES))
    if not to_name.strip():
        raise UsageError("custody.name_required")
    pem = read_recipient_key(recipient_key)
    receiver = fingerprint(load_public_pem(pem))
    case, key = open_for_writing(session, case_dir)
    if receiver == key.fingerprint:
        raise UsageError("custody.to_self")
    shared = False
    if case.info.encryption is not None:
        if not age_recipients:
            raise UsageError("custody.age_recipient_needed")
        from forensic.case.rekey import share_case
        from forensic.store.crypt import parse_recipient

        for recipient in age_recipients:
            parse_recipient(recipient)
        share_case(case, key, list(age_recipients), progress)
        shared = True
    subject = f"case:{case.info.case_id}"
    with case.step(key, HANDOVER) as step:
        next_seq, head_hash = case.log.head()
        items, size = _contents(case, next_seq - 1)
        party = party_record(to_name, role, organisation, pem)
        pending = []
        added = receiver not in case.parties()
        if added:
            added_party = {"party": party, "tool": tool_record()}
            pending.append(PendingEntry(PARTY_ADD, subject, added_party))
        details = {
            "head": {"seq": next_seq - 1, "hash": head_hash},
            "items": items,
            "bytes": size,
            "to": {k: party[k] for k in ("fingerprint", "name", "organisation", "role")},
            "tool": tool_record(),
        }
        pending.append(PendingEntry(HANDOVER, subject, details))
        written = step.record(pending)
    [given] = handovers(written[-1:])
    return HandoverResult(given, tuple(written), added, shared, step.recovery)


def _copy_bag(bag: Path, into: Path) -> dict[str, str]:
    """The case a bag holds (its ``data/``, re-hashed against the bag's manifest first),
    copied to ``into``; what the export added is left out. Returns the SHA-256 of the bag's
    manifests: the sender's ``export`` entry records the same values."""
    data = bag / "data"
    manifest = bag / "manifest-sha256.txt"
    if not data.is_dir() or not manifest.is_file():
        raise UsageError("custody.not_a_bag_or_case", path=str(bag))
    if into.exists() and (not into.is_dir() or any(into.iterdir())):
        raise UsageError("custody.into_not_empty", path=str(into))
    listed: dict[str, str] = {}
    for line in manifest.read_text("utf-8").splitlines():
        digest, _sep, rel = line.partition("  ")
        listed[rel] = digest
    for rel, digest in listed.items():
        path = bag / rel
        if path.is_symlink() or not path.is_file():
            raise HandoverIntegrityError("custody.bag_altered", path=rel)
        with path.open("rb") as fh:
            if hashlib.file_digest(fh, "sha256").hexdigest() != digest:
                raise HandoverIntegrityError("custody.bag_altered", path=rel)
    into.mkdir(mode=0o700, parents=True, exist_ok=True)
    for rel in sorted(listed):
        inner = rel.removeprefix("data/")
        if inner.split("/", 1)[0] in BAG_LEFT_OUT:
            continue
        target = into / inner
        target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        shutil.copyfile(bag / rel, target, follow_symlinks=False)
        os.chmod(target, (bag / rel).stat().st_mode & 0o700)
    sums = {}
    for name in ("manifest-sha256.txt", "tagmanifest-sha256.txt"):
        with (bag / name).open("rb") as fh:
            sums[name.replace("-sha256.txt", "_sha256")] = hashlib.file_digest(
                fh, "sha256"
            ).hexdigest()
    return sums


def _pending_handover(case: Case, me: str) -> Handover:
    waiting = [h for h in handovers(case.entries()) if h.receiver == me and not h.received]
    if not waiting:
        raise UsageError("custody.nothing_to_receive", fingerprint=me[:16])
    return waiting[-1]


def receive(
    session: Session,
    source: Path,
    *,
    into: Path | None = None,
    progress: ProgressReporter = SILENT,
) -> ReceiveResult:
    """Verify a handed-over case (a case folder, or a bag copied to ``into``), pin the
    sender's key in this home and countersign the hand-over with a ``receipt``."""
    from forensic.verify import verify_case

    from_bag = (source / "bagit.txt").is_file()
    bag: dict[str, str] = {}
    if from_bag:
        if into is None:
            raise UsageError("custody.into_needed", path=str(source))
        key = session.unlock()  # before copying: a wrong passphrase leaves nothing behind
        bag = _copy_bag(source, into)
        root = into
    else:
        key = session.unlock()
        root = source
    case = open_case(session, root)
    given = _pending_handover(case, key.fingerprint)
    report = verify_case(case, progress)
    problems = [p for p in report.problems if p.area != "interrupted"]
    if problems:
        first = problems[0]
        raise HandoverIntegrityError(
            "custody.not_intact", count=len(problems), first=f"{first.location}: {first.detail}"
        )
    items, size = _contents(case, given.head_seq)
    if (items, size) != (given.items, given.bytes):
        raise HandoverIntegrityError(
            "custody.contents_differ", items=items, bytes=size, want_items=given.items,
            want_bytes=given.bytes,
        )  # fmt: skip
    details = {
        "handover": {"seq": given.seq, "hash": given.hash},
        "head": {"seq": given.head_seq, "hash": given.head_hash},
        "items": items,
        "bytes": size,
        "from": given.sender,
        "verified": {"objects": report.objects_checked, "log_entries": report.log_entries},
        "tool": tool_record(),
    }
    if bag:
        details["bag"] = bag
    with case.step(key, RECEIPT, receiving=True) as step:
        [entry] = step.record([PendingEntry(RECEIPT, f"case:{case.info.case_id}", details)])
    case.remember_history(pin=(given.sender,))
    return ReceiveResult(case.root, given, entry, given.sender, from_bag, step.recovery)
