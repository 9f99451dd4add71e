"""Re-encrypt every object of a case: make a plain case encrypted (``encrypt``) or add
recipients to an encrypted one (``share``).

A specialised use of the one write transaction (:mod:`forensic.case.step`), in this order: an
intent names the run; every object is re-encrypted into a new content-addressed ciphertext
object (plaintext only in memory), made durable, re-read cold and decrypted back to its
recorded SHA-256; the new ``case.json`` and key files and every derived file, re-encrypted,
are staged in ``tmp/``; one signed entry records every old → new object and the new files'
hashes (the commit point); only then are the staged files moved into place and the replaced
objects unlinked. A crash before the commit leaves the case as it was plus unrecorded objects
and partial files (recovery quarantines / removes and logs them: rolled back); a crash after
it leaves a step whose entry is committed (recovery finishes it).
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import pyrage  # type: ignore[import-untyped]

from forensic._internal.casefs import open_in_case
from forensic._internal.clock import utc_timestamp
from forensic._internal.fsio import sync_filesystem
from forensic.case.derived import DerivedFileError
from forensic.case.layout import CASE_FILE, is_ciphertext, is_derived
from forensic.case.records import tool_record
from forensic.custody.keys import ExaminerKey
from forensic.custody.log import PendingEntry
from forensic.errors import EXIT_INTEGRITY, EXIT_USAGE
from forensic.progress import SILENT, ProgressReporter
from forensic.store import ItemId, StagedObject
from forensic.store.crypt import (
    IDENTITY_FILE,
    RECIPIENTS_FILE,
    SCHEME,
    CaseCrypto,
    CryptError,
    Encryption,
    memfd,
    new_identity,
    parse_recipient,
    wrap_identity,
)

if TYPE_CHECKING:
    from forensic.case.case import Case, Item
    from forensic.case.step import Step


@dataclass(frozen=True)
class RekeyResult:
    action: str
    run: str
    objects: int
    bytes: int
    recipients: tuple[str, ...]
    added: tuple[str, ...]
    seq: int
    derived: int = 0
    """Derived files (metadata, figures, transcripts, reports…) re-encrypted."""

    def as_dict(self) -> dict[str, Any]:
        return {
            "derived_files": self.derived,
            "action": self.action,
            "run": self.run,
            "objects": self.objects,
            "bytes": self.bytes,
            "recipients": list(self.recipients),
            "added": list(self.added),
            "seq": self.seq,
        }


def recipients_text(recipients: tuple[str, ...], case_id: str) -> bytes:
    """An age recipients file (``age -R``): the case's own recipient first."""
    lines = [f"# forensic case {case_id}: every evidence object is encrypted to these"]
    lines += list(recipients)
    return ("\n".join(lines) + "\n").encode("ascii")


def _reencrypt(
    case: Case, item: Item, crypto_for_read: CaseCrypto | None, recipients: list[Any]
) -> StagedObject:
    """One item's bytes as new ciphertext in tmp/ (plaintext only in a memfd)."""
    item_id = item.item_id
    store = case.store
    if not item.encrypted or crypto_for_read is None:
        fd = open_in_case(case.root, item.object_path)  # never through a link
        try:
            staged = store.stage_from_fd(fd, (), None, recipients)
        finally:
            os.close(fd)
    else:
        with memfd(item_id[:16]) as mfd:
            fin_fd = open_in_case(case.root, item.object_path)
            with os.fdopen(fin_fd, "rb") as fin, os.fdopen(os.dup(mfd), "wb") as fout:
                crypto_for_read.decrypt_stream(fin, fout)
            os.lseek(mfd, 0, os.SEEK_SET)
            staged = store.stage_from_fd(mfd, (), None, recipients)
    if staged.item_id != item_id or staged.size != item.size:
        store.discard(staged)
        raise CryptError("plaintext_mismatch", exit_code=EXIT_INTEGRITY, path=item.object_path)
    return staged


#: New ciphertexts staged before they are named in the intent and placed together.
ANNOUNCE_BATCH = 64


def _reencrypt_objects(
    case: Case, step: Step, read_crypto: CaseCrypto | None, recipients: list[Any],
    progress: ProgressReporter,
) -> list[tuple[str, StagedObject]]:  # fmt: skip
    """Every item as new ciphertext at its content address (placed, not yet recorded)."""
    items = case.items()
    new_objects: list[tuple[str, StagedObject]] = []
    progress.start(step.action, sum(i.size for i in items.values()))
    batch: list[tuple[str, StagedObject]] = []

    def place(batch: list[tuple[str, StagedObject]]) -> None:
        # named in the intent before any is placed: recovery quarantines only what it names
        paths = [case.store.object_path(s.stored_sha256) for _i, s in batch]
        step.announce_objects(paths)
        for _item_id, staged in batch:
            case.store.commit(staged, dedupe=False)
        step.place_objects(paths)
        new_objects.extend(batch)
        batch.clear()

    try:
        for item in items.values():
            staged = _reencrypt(case, item, read_crypto, recipients)
            batch.append((item.item_id, staged))
            progress.advance(staged.size)
            if len(batch) >= ANNOUNCE_BATCH:
                place(batch)
        place(batch)
    except BaseException:
        for _item_id, staged in batch:
            case.store.discard(staged)
        raise
    finally:
        progress.finish()
    sync_filesystem(
        case.store.objects, [case.store.object_path(s.stored_sha256) for _i, s in new_objects]
    )
    return new_objects


def _checked_mapping(
    case: Case, identity_crypto: CaseCrypto, new_objects: list[tuple[str, StagedObject]]
) -> list[dict[str, Any]]:
    """Cold re-read of every new ciphertext and decryption back to the recorded SHA-256."""
    items = case.items()
    mapping: list[dict[str, Any]] = []
    for item_id, staged in new_objects:
        check = case.store.verify_stored(case.store.stored(staged), decrypt=False, cold=True)
        plain = _decrypt_digest(case, identity_crypto, staged)
        if not check.intact or plain != item_id:
            raise CryptError(
                "plaintext_mismatch",
                exit_code=EXIT_INTEGRITY,
                path=case.store.relative_path(staged.stored_sha256),
            )
        mapping.append(
            {
                "item": item_id,
                "from": items[ItemId(item_id)].object_path,
                "to": case.store.relative_path(staged.stored_sha256),
                "sha256": staged.stored_sha256,
                "size": staged.object_size,
                "plaintext_sha256": plain,
            }
        )
    return mapping


def _rekey(
    case: Case,
    key: ExaminerKey,
    action: str,
    new_encryption: Encryption,
    read_crypto: CaseCrypto | None,
    extra_files: dict[str, bytes],
    details: dict[str, Any],
    progress: ProgressReporter,
) -> RekeyResult:
    new_info = replace(case.info, encryption=new_encryption)
    files = {CASE_FILE: new_info.case_json(), **extra_files}
    with case.step(key, action, intent={}) as step:
        recorded = case.recorded_files()
        derived = [r for r in sorted(recorded) if is_derived(r) and (case.root / r).is_file()]
        write_crypto = CaseCrypto(case.root, new_encryption, case.session)
        identity_crypto = read_crypto or write_crypto
        try:
            new_objects = _reencrypt_objects(
                case, step, read_crypto, write_crypto.recipients, progress
            )
            assert read_crypto is not None or not new_objects
            step.checkpoint("objects_written")
            mapping = _checked_mapping(case, identity_crypto, new_objects)
            records = [step.stage_exact(rel, data) for rel, data in files.items()]
            for rel in derived:  # staged like case.json: moved into place after the commit
                blob, record = _reencrypt_derived(
                    case, rel, recorded[rel], read_crypto, identity_crypto, write_crypto.recipients
                )
                records.append(step.stage_exact(rel, blob, extra=record))
        except CryptError:
            step.abandon()  # refused: nothing recorded, nothing left behind
            raise
        step.checkpoint("derived_staged")
        details = {
            **details,
            "run": step.run,
            "scheme": SCHEME,
            "recipients": list(new_encryption.recipients),
            "objects": mapping,
            "case": new_info.as_dict(),
            "examiner": case.examiner_name,
            "tool": tool_record(),
            "files": records,
        }
        step.retire_objects(case.root / m["from"] for m in mapping if m["from"] != m["to"])
        [entry] = step.record([PendingEntry(action, f"case:{case.info.case_id}", details)])
    return RekeyResult(
        action,
        step.run,
        len(mapping),
        sum(s.size for _i, s in new_objects),
        new_encryption.recipients,
        tuple(details.get("added", [])),
        entry.seq,
        len(derived),
    )


def _reencrypt_derived(
    case: Case,
    rel: str,
    record: dict[str, Any],
    read_crypto: CaseCrypto | None,
    check_crypto: CaseCrypto,
    recipients: list[Any],
) -> tuple[bytes, dict[str, Any]]:
    """One derived file as new ciphertext and its plaintext fields (plaintext only in memory);
    refuses a file whose bytes are not what the log vouches for (a tampered file is never
    re-sealed)."""
    path = case.root / rel
    raw = path.read_bytes()
    if hashlib.sha256(raw).hexdigest() != record.get("sha256"):
        raise DerivedFileError("file_altered", exit_code=EXIT_INTEGRITY, path=rel)
    plain = raw
    if is_ciphertext(raw):
        if read_crypto is None:
            raise DerivedFileError("decrypt_failed", exit_code=EXIT_INTEGRITY, path=rel)
        try:
            plain = pyrage.decrypt(raw, [read_crypto.identity()])
        except pyrage.DecryptError as exc:
            raise DerivedFileError("decrypt_failed", exit_code=EXIT_INTEGRITY, path=rel) from exc
    plain_sha = hashlib.sha256(plain).hexdigest()
    if record.get("plaintext_sha256") not in (None, plain_sha):
        raise DerivedFileError("file_altered", exit_code=EXIT_INTEGRITY, path=rel)
    blob = pyrage.encrypt(plain, recipients)
    # Decrypt-check the new ciphertext before the commit, as for the objects.
    if hashlib.sha256(pyrage.decrypt(blob, [check_crypto.identity()])).hexdigest() != plain_sha:
        raise DerivedFileError("decrypt_failed", exit_code=EXIT_INTEGRITY, path=rel)
    return blob, {"plaintext_sha256": plain_sha, "plaintext_size": len(plain)}


def _decrypt_digest(case: Case, crypto: CaseCrypto, staged: StagedObject) -> str:
    from forensic.store.crypt import DigestSink

    sink = DigestSink()
    rel = case.store.relative_path(staged.stored_sha256)
    with os.fdopen(open_in_case(case.root, rel), "rb") as fh:
        crypto.decrypt_stream(fh, sink)
    return sink.sha256.hexdigest()


def encrypt_case(
    case: Case, key: ExaminerKey, passphrase: str, progress: ProgressReporter = SILENT
) -> RekeyResult:
    """Switch a plain case to age ciphertext under a new case identity."""
    if case.info.encryption is not None:
        raise CryptError("already_encrypted", path=str(case.root))
    identity = new_identity()
    created = utc_timestamp()
    recipient = str(identity.to_public())
    encryption = Encryption((recipient,))
    # The new identity is only staged until the commit: decrypt-checks use it from memory.
    read_crypto = CaseCrypto(case.root, encryption, case.session, identity=identity)
    files = {
        IDENTITY_FILE: wrap_identity(identity, passphrase, created),
        RECIPIENTS_FILE: recipients_text((recipient,), case.info.case_id),
    }
    return _rekey(
        case,
        key,
        "encrypt",
        encryption,
        read_crypto,
        files,
        {"added": [recipient], "identity_created": created},
        progress,
    )


def share_case(
    case: Case, key: ExaminerKey, recipients: list[str], progress: ProgressReporter = SILENT
) -> RekeyResult:
    """Re-encrypt every object so that ``recipients`` can decrypt it too."""
    enc = case.info.encryption
    if enc is None:
        raise CryptError("not_encrypted", path=str(case.root))
    if not recipients:
        raise CryptError("no_recipient", exit_code=EXIT_USAGE)
    for r in recipients:
        parse_recipient(r)
    added = [r.strip() for r in dict.fromkeys(recipients) if r.strip() not in enc.recipients]
    if not added:
        raise CryptError("already_recipient", recipient=recipients[0])
    read_crypto = case.store.crypto
    assert read_crypto is not None
    read_crypto.identity()  # unlock before any work
    new = Encryption((*enc.recipients, *added), enc.identity_file)
    files = {RECIPIENTS_FILE: recipients_text(new.recipients, case.info.case_id)}
    return _rekey(case, key, "share", new, read_crypto, files, {"added": added}, progress)
