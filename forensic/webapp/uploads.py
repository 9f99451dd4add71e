"""Uploaded files streamed into the case's own ``tmp/upload-<run>/`` folder, never elsewhere.

The file pipeline takes paths, so the browser's bytes must become files first: they are
written part by part (no temp copy outside the case, no spooling to ``/tmp``), each name
checked like an export's reference (no ``..``, no absolute path, no control character),
the total bounded. The folder is named in a signed outside intent before its first byte, so
a killed server leaves nothing that ``forensic recover`` would not remove; it is removed as
soon as the capture that read it is over.
"""

from __future__ import annotations

import contextlib
import os
import unicodedata
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from python_multipart.multipart import MultipartParser, parse_options_header

from forensic._internal.casefs import PRIVATE_FILE, make_private_dirs, open_in_case, remove_outside
from forensic._internal.paths import display
from forensic.case.outside import outside_plaintext
from forensic.custody.keys import ExaminerKey
from forensic.errors import UsageError
from forensic.i18n import message

#: What one upload may hold in all (bytes); a larger one is refused as it arrives.
MAX_UPLOAD_BYTES = 4 << 30
MAX_FILES = 10_000
MAX_NAME_BYTES = 1024


class UploadError(UsageError):
    """An upload refused before any capture (its message names the file and the cause);
    ``key`` is a whole catalogue key (a bad name is worded like a chat export's bad reference)."""

    def diagnostics(self, lang: str = "en") -> str:
        text = message(self.key, lang, **self.params)
        if self.key.startswith("reason."):  # as the CLI says a failure: the name, then why
            return f"{display(str(self.params.get('ref', '')))}: {text}"
        return text


def safe_relpath(name: str) -> str | None:
    """The relative path an uploaded file is kept under, or ``None`` when the name tries to
    leave the upload folder (``..``, an absolute path, a control character, empty parts)."""
    name = unicodedata.normalize("NFC", name.replace("\\", "/"))
    if not name or name.startswith("/") or len(name.encode()) > MAX_NAME_BYTES:
        return None
    parts = name.split("/")
    for part in parts:
        if part in ("", ".", "..") or any(unicodedata.category(c)[0] == "C" for c in part):
            return None
    return "/".join(parts)


@dataclass
class UploadParts:
    """What the multipart body held: the form fields and the files written (top level)."""

    fields: dict[str, str] = field(default_factory=dict)
    files: list[str] = field(default_factory=list)
    """Top-level entries under the upload folder, in the order they came (a folder once)."""
    size: int = 0


class _Receiver:
    """The multipart callbacks: fields kept (small), files written straight into the case."""

    def __init__(self, root: Path, folder: str, csrf_ok: object) -> None:
        self.root, self.folder, self.csrf_ok = root, folder, csrf_ok
        self.parts = UploadParts()
        self.header_name = b""
        self.headers: dict[bytes, bytes] = {}
        self.value = bytearray()
        self.fd: int | None = None
        self.field: str | None = None

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self.header_name += data[start:end]

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        name = self.header_name.lower()
        self.headers[name] = self.headers.get(name, b"") + data[start:end]

    def on_header_end(self) -> None:
        self.header_name = b""

    def on_headers_finished(self) -> None:
        _kind, options = parse_options_header(self.headers.get(b"content-disposition", b""))
        self.headers = {}
        name = options.get(b"name", b"").decode("utf-8", "replace")
        filename = options.get(b"filename")
        self.field = None
        if filename is None:
            self.field, self.value = name, bytearray()
            return
        if not callable(self.csrf_ok) or not self.csrf_ok(self.parts.fields):
            raise UploadError("app.security.no_csrf")
        given = filename.decode("utf-8", "replace")
        if not given:  # an empty file input
            return
        rel = safe_relpath(given)
        if rel is None:
            raise UploadError("reason.chat.path_escapes", ref=given)
        if len(self.parts.files) >= MAX_FILES:
            raise UploadError("app.upload.too_many", limit=MAX_FILES)
        top = rel.split("/", 1)[0]
        if top not in self.parts.files:
            self.parts.files.append(top)
        if "/" in rel:
            make_private_dirs(self.root, f"{self.folder}/{rel.rsplit('/', 1)[0]}")
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL
        self.fd = open_in_case(self.root, f"{self.folder}/{rel}", flags, PRIVATE_FILE)

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        chunk = memoryview(data)[start:end]
        self.parts.size += len(chunk)
        if self.parts.size > MAX_UPLOAD_BYTES:
            raise UploadError("app.upload.too_large", limit=MAX_UPLOAD_BYTES >> 20)
        if self.fd is not None:
            while chunk:
                chunk = chunk[os.write(self.fd, chunk) :]
        elif self.field is not None:
            if len(self.value) + len(chunk) > 64 * 1024:
                raise UploadError("app.upload.field_too_large", field=self.field)
            self.value += chunk

    def on_part_end(self) -> None:
        if self.fd is not None:
            os.fsync(self.fd)
            os.close(self.fd)
            self.fd = None
        elif self.field is not None:
            self.parts.fields[self.field] = self.value.decode("utf-8", "replace")
            self.field = None

    def close(self) -> None:
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None


@contextlib.contextmanager
def upload_folder(case_root: Path, key: ExaminerKey) -> Iterator[Path]:
    """A new private ``tmp/upload-<run>/`` in the case, announced, removed at the end."""
    run = f"upload-{uuid.uuid4().hex}"
    folder = case_root / "tmp" / run
    with outside_plaintext(case_root, key, "upload", [folder], run=f"run-{run}"):
        make_private_dirs(case_root, f"tmp/{run}")
        try:
            yield folder
        finally:
            remove_outside(folder)


async def receive_upload(
    chunks: AsyncIterator[bytes],
    content_type: str,
    case_root: Path,
    folder: Path,
    csrf_ok: object,
) -> UploadParts:
    """Stream the multipart body into ``folder``; the CSRF field must come before any file."""
    _kind, options = parse_options_header(content_type)
    boundary = options.get(b"boundary")
    if not boundary:
        raise UploadError("app.upload.not_multipart")
    receiver = _Receiver(case_root, f"tmp/{folder.name}", csrf_ok)
    callbacks = {
        name: getattr(receiver, name)
        for name in (
            "on_header_field",
            "on_header_value",
            "on_header_end",
            "on_headers_finished",
            "on_part_data",
            "on_part_end",
        )
    }
    parser = MultipartParser(boundary, callbacks)  # type: ignore[arg-type]
    try:
        async for chunk in chunks:
            parser.write(chunk)
        parser.finalize()
    finally:
        receiver.close()
    return receiver.parts
