"""Re-encrypt every object of a case: make a plain case encrypted (``encrypt``) or add
recipients to an encrypted one (``share``).

Crash-safe, in this order: an intent file names the run; every object is re-encrypted into a new
content-addressed ciphertext object (plaintext only in memory), made durable, re-read cold and
decrypted back to its recorded SHA-256; the new ``case.json`` and key files are staged in
``tmp/``; one signed entry records every old → new object and the new files' hashes (the commit
point); only then are the staged files moved into place and the replaced objects unlinked. A
crash before the commit leaves the case as it was plus unrecorded objects and partial files
(``recover`` quarantines / removes and logs them: rolled back); a crash after it leaves a run
whose entry is committed (``recover`` finishes it).
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyrage  # type: ignore[import-untyped]

from forensic._internal.clock import utc_timestamp
from forensic._internal.fsio import atomic_write, fsync_dir, sync_filesystem
from forensic.case.derived import DerivedFileError, is_ciphertext, is_derived, move_staged
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

CASE_FILE = "case.json"


def _no_crash(point: str) -> None:
    """Test hook: a test replaces this to simulate a crash at ``point``."""


crash_point: Callable[[str], None] = _no_crash


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
    src = case.root / item.object_path
    store = case.store
    if not item.encrypted or crypto_for_read is None:
        fd = os.open(src, os.O_RDONLY)
        try:
            staged = store.stage_from_fd(fd, (), None, recipients)
        finally:
            os.close(fd)
    else:
        with memfd(item_id[:16]) as mfd:
            with src.open("rb") as fin, os.fdopen(os.dup(mfd), "wb") as fout:
                crypto_for_read.decrypt_stream(fin, fout)
            os.lseek(mfd, 0, os.SEEK_SET)
            staged = store.stage_from_fd(mfd, (), None, recipients)
    if staged.item_id != item_id or staged.size != item.size:
        store.discard(staged)
        raise CryptError("plaintext_mismatch", exit_code=EXIT_INTEGRITY, path=item.object_path)
    return staged


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
    from forensic.case.case import tool_record

    run = f"run-{uuid.uuid4().hex}"
    new_info = replace(case.info, encryption=new_encryption)
    files = {CASE_FILE: new_info.case_json(), **extra_files}
    staged_files = {rel: f"{run}.{rel.replace('/', '_')}.staged" for rel in files}
    with case.writing(key):
        entries = case.entries()
        recorded = case.recorded_files(entries)
        derived = [r for r in sorted(recorded) if is_derived(r) and (case.root / r).is_file()]
        for i, rel in enumerate(derived):
            staged_files[rel] = f"{run}.derived-{i}.staged"
        intent = case.store.tmp / f"{run}.intent.json"
        case.store.tmp.mkdir(exist_ok=True)
        intent_doc = {
            "run": run,
            "action": action,
            "started": utc_timestamp(),
            "staged": [{"tmp": t, "path": rel} for rel, t in staged_files.items()],
        }
        atomic_write(intent, json.dumps(intent_doc).encode("utf-8"))
        items = case.items(entries)
        write_crypto = CaseCrypto(case.root, new_encryption, case.session)
        recipients = write_crypto.recipients
        new_objects: list[tuple[str, StagedObject]] = []
        progress.start(action, sum(i.size for i in items.values()))
        try:
            for item in items.values():
                staged = _reencrypt(case, item, read_crypto, recipients)
                case.store.commit(staged, dedupe=False)
                new_objects.append((item.item_id, staged))
                progress.advance(staged.size)
        except CryptError:
            for _item, staged in new_objects:
                _unlink(case.store.object_path(staged.stored_sha256))
            intent.unlink()
            raise
        finally:
            progress.finish()
        sync_filesystem(
            case.store.objects, [case.store.object_path(s.stored_sha256) for _i, s in new_objects]
        )
        crash_point("objects_written")
        # Cold re-read of every new ciphertext and decryption back to the recorded SHA-256.
        identity_crypto = read_crypto or write_crypto
        assert read_crypto is not None or not items
        mapping: list[dict[str, Any]] = []
        for item_id, staged in new_objects:
            check = case.store.verify_stored(case.store.stored(staged), decrypt=False, cold=True)
            plain = _decrypt_digest(case, identity_crypto, staged)
            if not check.intact or plain != item_id:
                for _i, s in new_objects:
                    _unlink(case.store.object_path(s.stored_sha256))
                intent.unlink()
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
        for rel, data in files.items():
            atomic_write(case.store.tmp / staged_files[rel], data, mode=0o444)
        records = [
            {"path": rel, "sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}
            for rel, data in files.items()
        ]
        try:
            for rel in derived:  # staged like case.json: moved into place after the commit
                records.append(
                    _reencrypt_derived(
                        case,
                        rel,
                        recorded[rel],
                        read_crypto,
                        identity_crypto,
                        recipients,
                        case.store.tmp / staged_files[rel],
                    )
                )
        except CryptError:
            for _i, s in new_objects:
                _unlink(case.store.object_path(s.stored_sha256))
            for name in staged_files.values():
                _unlink(case.store.tmp / name)
            intent.unlink()
            raise
        crash_point("derived_staged")
        details = {
            **details,
            "run": run,
            "scheme": SCHEME,
            "recipients": list(new_encryption.recipients),
            "objects": mapping,
            "case": new_info.as_dict(),
            "examiner": case.info.examiner,
            "tool": tool_record(),
            "files": records,
        }
        [entry] = case.record(key, [PendingEntry(action, f"case:{case.info.case_id}", details)])
        crash_point("logged")
        _finish(case, intent_doc, entry.details)
        intent.unlink()
        fsync_dir(case.store.tmp)
    return RekeyResult(
        action,
        run,
        len(mapping),
        sum(i.size for i in items.values()),
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
    staged: Path,
) -> dict[str, Any]:
    """One derived file as new ciphertext in ``staged`` (plaintext only in memory); refuses a
    file whose bytes are not what the log vouches for (a tampered file is never re-sealed)."""
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
    atomic_write(staged, blob, mode=0o444)
    return {
        "path": rel,
        "sha256": hashlib.sha256(blob).hexdigest(),
        "size": len(blob),
        "plaintext_sha256": plain_sha,
        "plaintext_size": len(plain),
    }


def _decrypt_digest(case: Case, crypto: CaseCrypto, staged: StagedObject) -> str:
    from forensic.store.crypt import DigestSink

    sink = DigestSink()
    with case.store.object_path(staged.stored_sha256).open("rb") as fh:
        crypto.decrypt_stream(fh, sink)
    return sink.sha256.hexdigest()


def _unlink(path: Path) -> bool:
    try:
        os.chmod(path, stat.S_IRUSR | stat.S_IWUSR)
        path.unlink()
    except FileNotFoundError:
        return False
    return True


def _finish(case: Case, intent: dict[str, Any], details: dict[str, Any]) -> dict[str, Any]:
    """After the commit: move the staged files into place, unlink the replaced objects."""
    moved = move_staged(case, ((str(r["tmp"]), str(r["path"])) for r in intent.get("staged", [])))
    removed: list[str] = []
    for rec in details.get("objects", []):
        old = case.root / str(rec["from"])
        if str(rec["from"]) != str(rec["to"]) and _unlink(old):
            removed.append(str(rec["from"]))
    if removed:
        fsync_dir(case.store.objects)
    return {
        "run": intent.get("run"),
        "action": intent.get("action"),
        "moved": moved,
        "removed": removed,
    }


def finish_committed_rekeys(case: Case) -> list[dict[str, Any]]:
    """Complete re-encryptions whose entry is committed but whose cleanup was cut off."""
    tmp = case.store.tmp
    if not tmp.is_dir():
        return []
    intents = []
    for path in sorted(tmp.glob("*.intent.json")):
        try:
            doc = json.loads(path.read_text("utf-8"))
        except (OSError, ValueError):
            continue
        if isinstance(doc, dict) and doc.get("action") in ("encrypt", "share"):
            intents.append((path, doc))
    if not intents:
        return []
    by_run = {
        r: e
        for e in case.entries()
        if e.action in ("encrypt", "share") and isinstance(r := e.details.get("run"), str)
    }
    finished = []
    for path, doc in intents:
        entry = by_run.get(str(doc.get("run")))
        if entry is None:
            continue  # not committed: recover rolls it back (partial files, new objects)
        result = _finish(case, doc, entry.details)
        result["seq"] = entry.seq
        path.unlink()
        finished.append(result)
    fsync_dir(tmp)
    return finished


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
