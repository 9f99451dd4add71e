"""Export a case as a sealed BagIt bag (RFC 8493), as a folder or a zip file.

The bag holds, under ``data/``, the evidence objects, the custody log and its signatures, the
examiner's public key, ``case.json``, every case file a log entry vouches for (timestamp tokens
and their chains among them) and ``case-uco.jsonld``; beside it, ``verify.sh`` and ``VERIFY.md``.
Every file copied is re-hashed on the way and must match the log, so a case that does not verify
is never exported.

The bag holds the log up to the entry *before* the export (its hash is ``Forensic-Log-Head`` in
``bag-info.txt``): the ``export`` entry, with the bag's manifest hashes, is appended to the case's
log after the bag is sealed.

Atomic: everything is written under a temporary name beside the destination and renamed at the
end, so an interrupted export never looks complete.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import shutil
import uuid
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from forensic import TOOL_NAME, __version__
from forensic._internal.casefs import (
    PRIVATE_FILE,
    SEALED_FILE,
    SEALED_SCRIPT,
    make_private_dir,
    make_private_dirs,
    open_in_case,
)
from forensic._internal.clock import utc_timestamp
from forensic._internal.fsio import fsync_dir, sync_filesystem
from forensic.case import step as case_step
from forensic.case.case import CASE_FILE, PUBKEY_FILE, Case, file_sha256, tool_record
from forensic.case.derived import open_case_file
from forensic.case.outside import outside_plaintext
from forensic.custody.keys import ExaminerKey
from forensic.custody.log import LOG_FILE, SIG_FILE, CustodyEntry, PendingEntry
from forensic.errors import EXIT_INTEGRITY, EXIT_OPERATIONAL, EXIT_USAGE, ForensicError
from forensic.export.transcript_stream import transcript_sources
from forensic.export.uco import ChatInput, uco_chunks
from forensic.i18n import templates_dir
from forensic.progress import SILENT, ProgressReporter
from forensic.store.crypt import IDENTITY_FILE

BAG_FORMAT = "forensic-bag 1"
UCO_FILE = "case-uco.jsonld"
TAG_FILES = ("bagit.txt", "bag-info.txt", "manifest-sha256.txt", "verify.sh", "VERIFY.md")
CHUNK = 1 << 20
PLAINTEXT_ROOT = "plaintext"
PLAINTEXT_DIR = "plaintext/sha256"
"""``export --decrypt``: decrypted items, named by their (plaintext) SHA-256."""


class ExportError(ForensicError):
    """An export that cannot be made; messages live in the ``[export]`` catalogue table."""

    def __init__(self, key: str, /, *, exit_code: int = EXIT_USAGE, **params: object) -> None:
        self.exit_code = exit_code
        super().__init__(key, **params)

    catalogue = "export.error_"


class ExportPathError(ExportError):
    """A recorded path that would make export read outside the case or through a link."""

    catalogue = "hardening.export_"


def _safe_source(case_root: Path, rel: str) -> None:
    """Signed records are trusted for their content, never for where they make us read."""
    parts = rel.split("/")
    if rel.startswith("/") or ".." in parts or "" in parts or "\x00" in rel:
        raise ExportPathError("path_invalid", exit_code=EXIT_INTEGRITY, path=rel)
    cur = case_root
    for part in parts:
        cur = cur / part
        if cur.is_symlink():
            raise ExportPathError("symlink", exit_code=EXIT_INTEGRITY, path=rel)


@dataclass(frozen=True)
class ExportResult:
    destination: Path
    zipped: bool
    bag_name: str
    files: int
    bytes: int
    manifest_sha256: str
    tagmanifest_sha256: str
    zip_sha256: str | None
    log_head: str
    log_head_seq: int
    entry: CustodyEntry
    recovered: bool = False
    items: int = 0
    tokens: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "destination": str(self.destination),
            "format": "zip" if self.zipped else "directory",
            "bag_name": self.bag_name,
            "files": self.files,
            "bytes": self.bytes,
            "items": self.items,
            "timestamp_tokens": self.tokens,
            "manifest_sha256": self.manifest_sha256,
            "tagmanifest_sha256": self.tagmanifest_sha256,
            "zip_sha256": self.zip_sha256,
            "log_head": self.log_head,
            "log_head_seq": self.log_head_seq,
            "export_seq": self.entry.seq,
        }


class _BagWriter:
    """Writes files under a bag root and remembers each one's SHA-256 and size."""

    def __init__(self, root: Path, progress: ProgressReporter) -> None:
        self.root = root
        self.progress = progress
        self.payload: dict[str, tuple[str, int]] = {}
        self.written: list[Path] = []

    def _target(self, rel: str) -> Path:
        path = self.root / rel
        make_private_dirs(self.root, path.parent)  # 0700 whatever the umask
        return path

    def write(self, rel: str, data: bytes, mode: int = SEALED_FILE) -> str:
        path = self._target(rel)
        with path.open("xb") as fh:
            fh.write(data)
        os.chmod(path, mode)
        self.written.append(path)
        digest = hashlib.sha256(data).hexdigest()
        if rel.startswith("data/"):
            self.payload[rel] = (digest, len(data))
        return digest

    def write_stream(self, rel: str, chunks: Iterator[bytes], mode: int = SEALED_FILE) -> str:
        """Like ``write``, for a file made piece by piece (the CASE graph of a big chat)."""
        path = self._target(rel)
        h = hashlib.sha256()
        size = 0
        with path.open("xb") as fh:
            for chunk in chunks:
                fh.write(chunk)
                h.update(chunk)
                size += len(chunk)
        os.chmod(path, mode)
        self.written.append(path)
        self.payload[rel] = (h.hexdigest(), size)
        return h.hexdigest()

    def copy(self, src: Path, rel: str, expect_sha256: str, expect_size: int | None) -> None:
        """Copy and hash in one pass; the copy must match what the custody log recorded."""
        path = self._target(rel)
        h = hashlib.sha256()
        size = 0
        try:
            # the folders were checked by _safe_source; a link, hard link or fifo here is refused
            fd = open_in_case(src.parent, src.name)
            with os.fdopen(fd, "rb") as fin, path.open("xb") as fout:
                for chunk in iter(lambda: fin.read(CHUNK), b""):
                    h.update(chunk)
                    fout.write(chunk)
                    size += len(chunk)
                    self.progress.advance(len(chunk))
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                raise ExportPathError(
                    "symlink", exit_code=EXIT_INTEGRITY, path=rel.removeprefix("data/")
                ) from exc
            if not isinstance(exc, FileNotFoundError) or src.exists():
                raise
            raise ExportError(
                "file_missing", exit_code=EXIT_INTEGRITY, path=rel.removeprefix("data/")
            ) from exc
        os.chmod(path, SEALED_FILE)
        self.written.append(path)
        digest = h.hexdigest()
        if digest != expect_sha256 or (expect_size is not None and size != expect_size):
            raise ExportError(
                "file_altered", exit_code=EXIT_INTEGRITY, path=rel.removeprefix("data/")
            )
        self.payload[rel] = (digest, size)

    def copy_plaintext(self, fin: BinaryIO, rel: str, expect_sha256: str, size: int) -> None:
        """A decrypted item into the bag (already checked against its SHA-256 on decryption)."""
        path = self._target(rel)
        h = hashlib.sha256()
        total = 0
        with path.open("xb") as fout:
            for chunk in iter(lambda: fin.read(CHUNK), b""):
                h.update(chunk)
                fout.write(chunk)
                total += len(chunk)
        os.chmod(path, SEALED_FILE)
        self.written.append(path)
        if h.hexdigest() != expect_sha256 or total != size:
            raise ExportError("file_altered", exit_code=EXIT_INTEGRITY, path=rel)
        self.payload[rel] = (expect_sha256, total)


def _tag_line(path: str) -> str:
    """RFC 8493 section 2.1.3: CR, LF and % in a manifest path are percent-encoded."""
    return path.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _info_value(value: str) -> str:
    return " ".join(value.split())


def _check_destination(case: Case, out: Path, force: bool) -> None:
    root = case.root.resolve()
    target = out.parent.resolve() / out.name
    if target == root or root in target.parents:
        raise ExportError("inside_case", path=str(out))
    if target in root.parents:
        raise ExportError("contains_case", path=str(out))
    if (out.exists() or out.is_symlink()) and not force:
        raise ExportError("exists", path=str(out))


def export_case(
    case: Case,
    key: ExaminerKey,
    out: Path,
    *,
    force: bool = False,
    progress: ProgressReporter = SILENT,
    decrypt: bool = False,
) -> ExportResult:
    """Write the sealed bag to ``out`` (a folder, or a zip when it ends in ``.zip``) and log it.

    An encrypted case ships its ciphertext objects and recipients file (never the wrapped case
    identity); ``decrypt`` adds each item's plaintext under ``data/plaintext/sha256/`` and is
    logged as a decryption."""
    out = Path(os.path.abspath(out))
    zipped = out.suffix.lower() == ".zip"
    bag_name = out.stem if zipped else out.name
    _check_destination(case, out, force)
    with case.writing(key) as recovery:
        _check_destination(case, out, force)
        problems = case.log.verify(case.public_key(), case.info.public_key_fingerprint)
        if problems:
            raise ExportError(
                "log_not_intact",
                exit_code=EXIT_INTEGRITY,
                detail=f"{problems[0].kind} line {problems[0].line}: {problems[0].detail}",
            )
        entries = case.entries()
        started = utc_timestamp()
        try:
            out.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ExportError(
                "write", exit_code=EXIT_OPERATIONAL, path=str(out.parent), reason=exc.strerror
            ) from exc
        token = uuid.uuid4().hex[:12]
        staging = out.parent / f".{out.name}.partial-{token}"
        zip_tmp = out.parent / f".{out.name}.partial-{token}.zip"
        replaced = out.parent / f".{out.name}.replaced-{token}"
        # The bag is plaintext outside the store (a plain case's objects, or --decrypt): the
        # intent names its paths first, so a killed export leaves nothing recovery misses.
        with outside_plaintext(case.root, key, "export", [staging, zip_tmp, replaced]) as intent:
            sealed, zip_sha = _write_bag(
                case, entries, (staging, zip_tmp, replaced), out, started, progress, decrypt,
                force,
            )  # fmt: skip
            intent.placed(out)
            case_step.fault_point("export", "placed")
            entry = _log_export(
                case, key, entries, sealed, out, started, zip_sha, decrypt, intent.run
            )
    head = entries[-1]
    return ExportResult(
        destination=out,
        zipped=zipped,
        bag_name=bag_name,
        files=sealed.files,
        bytes=sealed.bytes,
        manifest_sha256=sealed.manifest_sha256,
        tagmanifest_sha256=sealed.tagmanifest_sha256,
        zip_sha256=zip_sha,
        log_head=head.hash,
        log_head_seq=head.seq,
        entry=entry,
        recovered=not recovery.empty,
        items=sealed.items,
        tokens=sealed.tokens,
    )


def _write_bag(
    case: Case,
    entries: list[CustodyEntry],
    names: tuple[Path, Path, Path],
    out: Path,
    started: str,
    progress: ProgressReporter,
    decrypt: bool,
    force: bool,
) -> tuple[_Sealed, str | None]:
    """Build the bag in its staging folder (and zip), then rename it to ``out``."""
    staging, zip_tmp, replaced = names
    zipped = out.suffix.lower() == ".zip"
    bag_name = out.stem if zipped else out.name
    try:
        make_private_dir(staging)
        bag_root = make_private_dirs(staging, bag_name) if zipped else staging
        sealed = _build_bag(case, entries, bag_root, out, started, progress, decrypt)
        case_step.fault_point("export", "bag_written")
        zip_sha: str | None = None
        if zipped:
            zip_sha = _zip_bag(bag_root, bag_name, zip_tmp)
            _replace(zip_tmp, out, force, replaced)
            shutil.rmtree(staging)
        else:
            sync_filesystem(staging, sealed.written)
            _replace(staging, out, force, replaced)
    except BaseException as exc:
        shutil.rmtree(staging, ignore_errors=True)
        with contextlib.suppress(OSError):
            zip_tmp.unlink()
        if isinstance(exc, OSError):
            raise ExportError(
                "write",
                exit_code=EXIT_OPERATIONAL,
                path=str(exc.filename or out),
                reason=exc.strerror or str(exc),
            ) from exc
        raise
    return sealed, zip_sha


def _log_export(
    case: Case,
    key: ExaminerKey,
    entries: list[CustodyEntry],
    sealed: _Sealed,
    out: Path,
    started: str,
    zip_sha: str | None,
    decrypt: bool,
    run: str,
) -> CustodyEntry:
    """The ``export`` entry (the caller holds the case lock); ``run`` names the outside
    intent, so recovery knows the bag it names was logged."""
    zipped = out.suffix.lower() == ".zip"
    bag_name = out.stem if zipped else out.name
    head = entries[-1]
    details: dict[str, Any] = {
        "destination": str(out),
        "format": "zip" if zipped else "directory",
        "bag_name": bag_name,
        "bag_format": BAG_FORMAT,
        "manifest_sha256": sealed.manifest_sha256,
        "tagmanifest_sha256": sealed.tagmanifest_sha256,
        "file_count": sealed.files,
        "bytes": sealed.bytes,
        "payload_oxum": f"{sealed.bytes}.{sealed.files}",
        "items": sealed.items,
        "timestamp_tokens": sealed.tokens,
        "log_head": head.hash,
        "log_head_seq": head.seq,
        "started": started,
        "finished": utc_timestamp(),
        "examiner": case.examiner_of(key),
        "tool": tool_record(),
    }
    if zip_sha is not None:
        details["zip_sha256"] = zip_sha
    if case.store.encrypted or decrypt:
        details["encrypted_objects"] = sealed.encrypted
        details["plaintext_objects"] = sealed.plaintext
    # An export is an access to the evidence: the entry itself says which items went out
    # and whether decrypted (the decryptions made for it are not logged a second time).
    case.session.take_decrypted(case.root)
    details["access"] = {
        "verb": "export --decrypt" if decrypt else "export",
        "items": sorted(case.items(entries)),
        "decrypted": bool(sealed.plaintext),
    }
    details["run"] = run
    [entry] = case.record(key, [PendingEntry("export", f"case:{case.info.case_id}", details)])
    return entry


@dataclass(frozen=True)
class _Sealed:
    files: int
    bytes: int
    items: int
    tokens: int
    manifest_sha256: str
    tagmanifest_sha256: str
    written: list[Path]
    encrypted: int = 0
    plaintext: int = 0


def _build_bag(
    case: Case,
    entries: list[CustodyEntry],
    root: Path,
    out: Path,
    started: str,
    progress: ProgressReporter,
    decrypt: bool = False,
) -> _Sealed:
    items = case.items(entries)
    files = case.recorded_files(entries)
    writer = _BagWriter(root, progress)
    total = sum(i.size for i in items.values()) + sum(int(f.get("size", 0)) for f in files.values())
    progress.start("export", total)
    # The log and its signatures: exactly the committed prefix (the case lock is held).
    raw = case.log.read_raw()
    committed = raw.lines[: len(raw.sigs)]
    writer.write(f"data/{LOG_FILE}", b"".join(line + b"\n" for line in committed))
    writer.write(f"data/{SIG_FILE}", b"".join(s + b"\n" for s in raw.sigs[: len(committed)]))
    for rel in sorted({i.object_path for i in items.values()} | set(files)):
        _safe_source(case.root, rel)
    plaintext = 0
    derived_plaintext = 0
    for item in items.values():
        obj = item.stored
        writer.copy(
            case.root / item.object_path,
            f"data/{item.object_path}",
            obj.sha256,
            obj.size if item.encrypted else None,
        )
        if decrypt and item.encrypted:
            with case.store.open_plaintext(item.item_id) as plain:
                rel = f"data/{PLAINTEXT_DIR}/{item.item_id[:2]}/{item.item_id}"
                writer.copy_plaintext(plain, rel, item.item_id, item.size)
            plaintext += 1
    for rel, record in sorted(files.items()):
        if rel == IDENTITY_FILE:
            continue  # the wrapped case key stays with the examiner (offline guessing)
        writer.copy(
            case.root / rel, f"data/{rel}", str(record.get("sha256")), int(record.get("size", 0))
        )
        if decrypt and isinstance(record.get("plaintext_sha256"), str):
            # An encrypted derived file (metadata, figure, transcript…): its plaintext under
            # data/plaintext/<its case path>, checked against the log's plaintext_sha256.
            with open_case_file(case, case.root / rel) as plain:
                writer.copy_plaintext(
                    plain,
                    f"data/{PLAINTEXT_ROOT}/{rel}",
                    str(record["plaintext_sha256"]),
                    int(record.get("plaintext_size", -1)),
                )
            derived_plaintext += 1
    for required in (CASE_FILE, PUBKEY_FILE):
        if f"data/{required}" not in writer.payload:
            raise ExportError("file_missing", exit_code=EXIT_INTEGRITY, path=required)
    chats = _uco_chats(case, entries, root, decrypt)
    uco = uco_chunks(
        case, entries, items, files, export_started=started, destination=str(out), chats=chats
    )
    writer.write_stream(f"data/{UCO_FILE}", uco)
    progress.finish()
    tokens = sum(len(e.details.get("tokens", []) or []) for e in entries if e.action == "timestamp")
    # Seal: payload manifest, declaration, bag-info, checker, instructions, tag manifest.
    manifest = "".join(
        f"{sha}  {_tag_line(rel)}\n" for rel, (sha, _size) in sorted(writer.payload.items())
    ).encode("utf-8")
    count = len(writer.payload)
    size = sum(s for _sha, s in writer.payload.values())
    head = entries[-1]
    tags: dict[str, bytes] = {
        "bagit.txt": b"BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n",
        "manifest-sha256.txt": manifest,
    }
    info = [
        ("Source-Organization", case.info.organisation or case.info.examiner),
        ("Contact-Name", case.examiner_name),
        ("External-Identifier", case.info.case_id),
        ("External-Description", case.info.title),
        ("Bagging-Date", started[:10]),
        ("Payload-Oxum", f"{size}.{count}"),
        ("Bag-Software-Agent", f"{TOOL_NAME} {__version__}"),
        ("Forensic-Bag-Format", BAG_FORMAT),
        ("Forensic-Log-Head", head.hash),
        ("Forensic-Log-Head-Seq", str(head.seq)),
        ("Forensic-Log-Entries", str(len(entries))),
        ("Forensic-Key-Fingerprint", case.info.public_key_fingerprint),
        ("Forensic-Items", str(len(items))),
        ("Forensic-Timestamp-Tokens", str(tokens)),
        ("Forensic-Export-Started", started),
    ]
    encrypted = sum(1 for i in items.values() if i.encrypted)
    if encrypted:
        recipients = case.info.encryption.recipients if case.info.encryption else ()
        info.append(("Forensic-Encryption", f"age-x25519, {len(recipients)} recipient(s)"))
        info.append(("Forensic-Encrypted-Objects", str(encrypted)))
        info.append(("Forensic-Plaintext-Objects", str(plaintext)))
        if derived_plaintext:
            info.append(("Forensic-Plaintext-Derived-Files", str(derived_plaintext)))
    tags["bag-info.txt"] = "".join(f"{k}: {_info_value(v)}\n" for k, v in info).encode("utf-8")
    tags["verify.sh"] = (templates_dir() / "export" / "verify.sh").read_bytes()
    tags["VERIFY.md"] = _verify_md(case, head, count, size)
    digests = {
        name: writer.write(name, data, SEALED_SCRIPT if name == "verify.sh" else SEALED_FILE)
        for name, data in tags.items()
    }
    tagmanifest = "".join(f"{digests[name]}  {name}\n" for name in TAG_FILES).encode("utf-8")
    tag_sha = writer.write("tagmanifest-sha256.txt", tagmanifest)
    return _Sealed(
        files=count,
        bytes=size,
        items=len(items),
        tokens=tokens,
        manifest_sha256=digests["manifest-sha256.txt"],
        tagmanifest_sha256=tag_sha,
        written=writer.written,
        encrypted=encrypted,
        plaintext=plaintext,
    )


def _uco_chats(
    case: Case, entries: list[CustodyEntry], root: Path, decrypt: bool
) -> list[ChatInput]:
    """Transcripts the CASE graph describes, read from the bag's verified copies; an encrypted
    case's chats only with ``--decrypt`` (message text never goes out in the clear otherwise)."""
    if case.store.encrypted and not decrypt:
        return []
    found: list[ChatInput] = []
    for source in transcript_sources(case, entries):
        plain = root / "data" / PLAINTEXT_ROOT / source.path
        found.append(ChatInput(source, plain if plain.is_file() else root / "data" / source.path))
    return found


def _verify_md(case: Case, head: CustodyEntry, files: int, size: int) -> bytes:
    text = (templates_dir() / "export" / "VERIFY.md").read_text("utf-8")
    values = {
        "CASE_ID": case.info.case_id,
        "EXAMINER": case.info.examiner,
        "FINGERPRINT": case.info.public_key_fingerprint,
        "LOG_HEAD": head.hash,
        "LOG_HEAD_SEQ": str(head.seq),
        "FILES": str(files),
        "BYTES": str(size),
        "VERSION": __version__,
    }
    for name, value in values.items():
        text = text.replace(f"@@{name}@@", value)
    return text.encode("utf-8")


def _zip_bag(bag_root: Path, bag_name: str, zip_path: Path) -> str:
    """The same bag in a zip, under one top-level folder; returns the zip's SHA-256."""
    raw = os.open(zip_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, PRIVATE_FILE)
    with (
        os.fdopen(raw, "wb") as fh,
        zipfile.ZipFile(fh, "w", compression=zipfile.ZIP_DEFLATED, allowZip64=True) as zf,
    ):
        for dirpath, dirnames, names in os.walk(bag_root):
            dirnames.sort()
            for name in sorted(names):
                full = Path(dirpath) / name
                rel = full.relative_to(bag_root).as_posix()
                info = zipfile.ZipInfo.from_file(full, f"{bag_name}/{rel}")
                info.compress_type = zipfile.ZIP_DEFLATED
                with full.open("rb") as src, zf.open(info, "w", force_zip64=True) as dst:
                    shutil.copyfileobj(src, dst, CHUNK)
    fd = os.open(zip_path, os.O_RDONLY | os.O_NOFOLLOW)
    try:
        os.fchmod(fd, SEALED_FILE)  # zipfile created it under the umask
        os.fsync(fd)
    finally:
        os.close(fd)
    return file_sha256(zip_path)


def _replace(src: Path, dst: Path, force: bool, old_name: Path) -> None:
    """Rename the finished bag into place; with ``force`` the old one goes only after that
    (first renamed to ``old_name``, which the export's outside intent names)."""
    old: Path | None = None
    if dst.exists() or dst.is_symlink():
        if not force:
            raise ExportError("exists", path=str(dst))
        old = old_name
        os.replace(dst, old)
    os.replace(src, dst)
    fsync_dir(dst.parent)
    if old is not None:
        if old.is_dir() and not old.is_symlink():
            shutil.rmtree(old, ignore_errors=True)
        else:
            with contextlib.suppress(OSError):
                old.unlink()
