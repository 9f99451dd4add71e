"""The people of a case: who may sign its custody log at each point, and its hand-overs.

A case starts with one party, the examiner whose key signs the ``init`` entry (the key of
``case.json``). A ``party-add`` entry, signed by a party, adds another: its name, role,
organisation and Ed25519 public key travel in the signed line, so every checker learns the key
from the log itself and compares it with the fingerprint beside it, by value. From the next line
on, that key may sign. A line whose actor is not a party at that point proves nothing.

A ``handover`` entry names what is handed (the head hash before it, the item count, the bytes)
and the receiving party; the receiver's ``receipt`` entry, signed with the receiver's key,
names the same head and the hand-over line's hash: a countersignature. A hand-over without its
receipt is "not yet received" (docs/format.md, "Parties and hand-overs").
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from forensic.custody.keys import fingerprint, load_public_pem, verify_signature
from forensic.errors import ForensicError

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    from forensic.custody.log import CustodyEntry

PARTY_ADD = "party-add"
HANDOVER = "handover"
RECEIPT = "receipt"
ROLES = ("collector", "counsel", "police", "prosecutor", "forensic-lab")
_HEX64 = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True)
class Party:
    """One person who may sign the log from ``since_seq`` on."""

    fingerprint: str
    name: str
    role: str
    organisation: str | None
    public_key_pem: str
    since_seq: int
    added_by: str | None = None
    """The fingerprint of the party whose entry added this one (None: the case's examiner)."""

    def as_dict(self) -> dict[str, Any]:
        return {
            "fingerprint": self.fingerprint,
            "name": self.name,
            "role": self.role,
            "organisation": self.organisation,
            "since_seq": self.since_seq,
            "added_by": self.added_by,
        }


def party_record(name: str, role: str, organisation: str | None, pem: bytes) -> dict[str, Any]:
    """``details.party`` of a ``party-add`` entry (the key checked to be Ed25519 here)."""
    key = load_public_pem(pem)
    return {
        "fingerprint": fingerprint(key),
        "name": name,
        "organisation": organisation,
        "public_key_pem": pem.decode("ascii"),
        "role": role,
    }


def _party_from(details: dict[str, Any], seq: int, actor: str) -> tuple[Party | None, str]:
    """The party a ``party-add`` entry adds, or (None, why not)."""
    rec = details.get("party")
    if not isinstance(rec, dict):
        return None, "no party record"
    pem, claimed = rec.get("public_key_pem"), rec.get("fingerprint")
    if not isinstance(pem, str) or not isinstance(claimed, str):
        return None, "party record without key or fingerprint"
    try:
        actual = fingerprint(load_public_pem(pem.encode("ascii")))
    except (ValueError, UnicodeEncodeError, ForensicError):
        return None, "the party's public key does not parse as Ed25519"
    if actual != claimed:
        return None, f"the party's key has fingerprint {actual[:16]}…, not {claimed[:16]}…"
    party = Party(
        fingerprint=actual,
        name=str(rec.get("name", "")),
        role=str(rec.get("role", "")),
        organisation=rec.get("organisation") if isinstance(rec.get("organisation"), str) else None,
        public_key_pem=pem,
        since_seq=seq + 1,
        added_by=actor,
    )
    return party, ""


@dataclass
class PartyChain:
    """The parties as the log adds them, line by line (for the checkers and for writers)."""

    parties: dict[str, Party] = field(default_factory=dict)
    keys: dict[str, Ed25519PublicKey] = field(default_factory=dict)

    @classmethod
    def starting(cls, examiner: Party, key: Ed25519PublicKey) -> PartyChain:
        return cls({examiner.fingerprint: examiner}, {examiner.fingerprint: key})

    def key_of(self, actor: str) -> Ed25519PublicKey | None:
        return self.keys.get(actor)

    def admit(self, entry: CustodyEntry) -> str | None:
        """After a verified line by a party: a ``party-add`` adds its party. Returns why a
        ``party-add`` adds nobody (None: fine, or not a ``party-add``)."""
        if entry.action != PARTY_ADD:
            return None
        party, why = _party_from(entry.details, entry.seq, entry.actor)
        if party is None:
            return why
        if party.fingerprint in self.parties:
            return None  # already a party: nothing changes
        self.parties[party.fingerprint] = party
        self.keys[party.fingerprint] = load_public_pem(party.public_key_pem.encode("ascii"))
        return None


def examiner_party(case_record: dict[str, Any]) -> Party:
    """The first party: the examiner of the ``init`` entry's case record."""
    return Party(
        fingerprint=str(case_record.get("public_key_fingerprint", "")),
        name=str(case_record.get("examiner", "")),
        role=str(case_record.get("role", "collector")),
        organisation=case_record.get("organisation")
        if isinstance(case_record.get("organisation"), str)
        else None,
        public_key_pem=str(case_record.get("public_key_pem", "")),
        since_seq=0,
    )


def case_parties(
    entries: Iterable[CustodyEntry], examiner: Party, sigs: dict[int, bytes] | None = None
) -> dict[str, Party]:
    """The parties of a log read for writing or showing: each ``party-add`` counts only when
    its actor was a party then and (given ``sigs``, seq → signature) its signature verifies
    with that party's key."""
    chain = PartyChain.starting(examiner, load_public_pem(examiner.public_key_pem.encode("ascii")))
    for entry in entries:
        if entry.action != PARTY_ADD:
            continue
        key = chain.key_of(entry.actor)
        if key is None:
            continue
        if sigs is not None:
            sig = sigs.get(entry.seq)
            if sig is None or not verify_signature(key, sig, entry.line):
                continue
        chain.admit(entry)
    return dict(chain.parties)


# -- hand-overs and receipts ------------------------------------------------------------------
@dataclass(frozen=True)
class Handover:
    """One hand-over and, when the log holds it, its receipt."""

    seq: int
    hash: str
    time: str
    sender: str
    receiver: str
    receiver_name: str
    receiver_role: str
    head_seq: int
    head_hash: str
    items: int
    bytes: int
    receipt_seq: int | None = None
    receipt_time: str | None = None
    bag_manifest: str | None = None
    """SHA-256 of the bag's ``manifest-sha256.txt`` the receipt was made from, if any."""

    @property
    def received(self) -> bool:
        return self.receipt_seq is not None

    def as_dict(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "time": self.time,
            "from": self.sender,
            "to": self.receiver,
            "to_name": self.receiver_name,
            "to_role": self.receiver_role,
            "head": {"seq": self.head_seq, "hash": self.head_hash},
            "items": self.items,
            "bytes": self.bytes,
            "received": self.received,
            "receipt_seq": self.receipt_seq,
            "receipt_time": self.receipt_time,
            "bag_manifest_sha256": self.bag_manifest,
        }


def _head_of(details: dict[str, Any]) -> tuple[int, str] | None:
    head = details.get("head")
    if not isinstance(head, dict):
        return None
    seq, digest = head.get("seq"), head.get("hash")
    if not isinstance(seq, int) or not isinstance(digest, str) or not _HEX64.fullmatch(digest):
        return None
    return seq, digest


def _handover_from(entry: CustodyEntry) -> Handover | None:
    to = entry.details.get("to")
    head = _head_of(entry.details)
    if not isinstance(to, dict) or head is None or not isinstance(to.get("fingerprint"), str):
        return None
    return Handover(
        seq=entry.seq,
        hash=entry.hash,
        time=entry.time,
        sender=entry.actor,
        receiver=str(to["fingerprint"]),
        receiver_name=str(to.get("name", "")),
        receiver_role=str(to.get("role", "")),
        head_seq=head[0],
        head_hash=head[1],
        items=int(entry.details.get("items", 0) or 0),
        bytes=int(entry.details.get("bytes", 0) or 0),
    )


def receipt_flaw(entry: CustodyEntry, handovers: dict[int, Handover]) -> str | None:
    """Why a ``receipt`` countersigns no hand-over of the log before it (None: it does)."""
    ref = entry.details.get("handover")
    head = _head_of(entry.details)
    if not isinstance(ref, dict) or head is None:
        return "receipt without its hand-over and head"
    seq, digest = ref.get("seq"), ref.get("hash")
    given = handovers.get(seq) if isinstance(seq, int) else None
    if given is None:
        return f"receipt names hand-over seq {seq!r}, which is no hand-over before it"
    if digest != given.hash:
        return f"receipt names a hand-over line hash that is not the one of seq {given.seq}"
    if head != (given.head_seq, given.head_hash):
        return (
            f"receipt is over head seq {head[0]} ({head[1][:16]}…), not the head the hand-over "
            f"at seq {given.seq} names (seq {given.head_seq}, {given.head_hash[:16]}…)"
        )
    if entry.actor != given.receiver:
        return f"receipt is not signed by the receiver of the hand-over at seq {given.seq}"
    if given.received:
        return f"the hand-over at seq {given.seq} has a receipt already"
    return None


def handovers(entries: Iterable[CustodyEntry]) -> list[Handover]:
    """Every hand-over in log order, with its receipt when a valid one follows."""
    found: dict[int, Handover] = {}
    for entry in entries:
        if entry.action == HANDOVER:
            given = _handover_from(entry)
            if given is not None:
                found[entry.seq] = given
        elif entry.action == RECEIPT and receipt_flaw(entry, found) is None:
            seq = int(entry.details["handover"]["seq"])
            old = found[seq]
            bag = entry.details.get("bag")
            manifest = bag.get("manifest_sha256") if isinstance(bag, dict) else None
            found[seq] = replace(
                old,
                receipt_seq=entry.seq,
                receipt_time=entry.time,
                bag_manifest=manifest if isinstance(manifest, str) else None,
            )
    return list(found.values())
