"""A takedown request package: ``forensic takedown --to d4u|kcsc|telegram|other``.

One folder and the same folder zipped, named by the request's tracking id, for the user to hand
over (the tool sends nothing):

* ``letter.ko.txt`` and ``letter.en.txt``: the request, naming every URL with when it was first
  and last seen (and found gone) in the case's zone and UTC, the trusted time covering each,
  how it was captured and how to verify;
* ``hashes.csv``: SHA-256, MD5, PDQ and vPDQ of each item named (what a platform matches);
* ``evidence/``: the items and the watch screenshots of the URLs, each encrypted to the
  recipient's age key (``NAME.age``), or in plaintext only when explicitly asked (with a
  warning); without either, no evidence file leaves the case;
* ``SHA256SUMS``: every file of the package, for ``sha256sum -c``.

The package is plaintext outside the case while it is written (the letter names URLs): an
outside intent names its paths first (:mod:`forensic.case.outside`), and it is logged as one
``export-takedown`` entry, like an export.
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from forensic._internal.casefs import PRIVATE_FILE, make_private_dir
from forensic._internal.clock import local_and_utc, utc_timestamp
from forensic._internal.fsio import fsync_dir
from forensic._internal.paths import display
from forensic.case.case import Case, Item
from forensic.case.outside import outside_plaintext
from forensic.case.records import tool_record
from forensic.custody.keys import ExaminerKey
from forensic.custody.log import CustodyEntry, PendingEntry
from forensic.errors import UsageError
from forensic.i18n import message

RECIPIENTS = ("d4u", "kcsc", "telegram", "other")
ACTION = "export-takedown"


class TakedownError(UsageError):
    catalogue = "takedown_error."


@dataclass(frozen=True)
class UrlRecord:
    """What the letter says of one URL (from the ``watch`` entries, or nothing yet)."""

    url: str
    state: str | None
    first_seen: str | None
    last_seen: str | None
    gone_at: str | None
    trusted: dict[str, Any] | None
    """The first time-stamp token covering the first sighting (or the first check)."""
    screenshot: str | None
    """The item id of the last screenshot that showed the page."""


@dataclass(frozen=True)
class Package:
    tracking_id: str
    recipient: str
    folder: Path
    zip_path: Path
    zip_sha256: str
    files: tuple[dict[str, Any], ...]
    items: tuple[str, ...]
    urls: tuple[UrlRecord, ...]
    evidence: str
    """``encrypted`` (to ``age_recipient``), ``plaintext`` (asked for), ``none``."""
    age_recipient: str | None
    entry: CustodyEntry


def tracking_id(recipient: str) -> str:
    stamp = utc_timestamp()[:10].replace("-", "")
    return f"TD-{recipient.upper()}-{stamp}-{secrets.token_hex(4).upper()}"


def _age_recipient(text: str) -> Any:
    import pyrage  # type: ignore[import-untyped]

    try:
        return pyrage.x25519.Recipient.from_str(text.strip())
    except Exception:  # pyrage raises its own error types for a malformed key
        raise TakedownError("bad_age_key", key=text) from None


def _when(utc: str | None, zone: str) -> str:
    return local_and_utc(utc, zone).text() if utc else "—"


def _trusted_text(tok: dict[str, Any] | None, zone: str, lang: str) -> str:
    if not tok:
        return message("takedown_letter.no_trusted", lang)
    key = "takedown_letter.trusted" if tok.get("trusted") else "takedown_letter.untrusted"
    return message(key, lang, tsa=str(tok.get("tsa")), time=_when(str(tok.get("gen_time")), zone))


def letter(
    lang: str, case: Case, recipient: str, tid: str, urls: Sequence[UrlRecord],
    rows: Sequence[dict[str, Any]], evidence: str,
) -> str:  # fmt: skip
    """The request letter in ``lang`` (``ko`` or ``en``)."""
    zone = case.info.timezone
    t: Callable[..., str] = lambda k, **p: message(f"takedown_letter.{k}", lang, **p)  # noqa: E731
    out = [t("title"), "", t("to", to=t(f"to_{recipient}")), t("tracking", id=tid),
           t("case", case=case.info.case_id, examiner=case.info.examiner),
           t("date", when=_when(utc_timestamp(), zone)), "", t("request"), ""]  # fmt: skip
    out.append(t("urls_heading"))
    for n, u in enumerate(urls, start=1):
        out.append(f"{n}. {display(u.url)}")
        out.append("   " + t("state", state=t(f"state_{u.state or 'unchecked'}")))
        out.append("   " + t("first_seen", when=_when(u.first_seen, zone)))
        out.append("   " + t("last_seen", when=_when(u.last_seen, zone)))
        if u.gone_at:
            out.append("   " + t("gone_at", when=_when(u.gone_at, zone)))
        out.append("   " + t("trusted_line", text=_trusted_text(u.trusted, zone, lang)))
    out += ["", t("items_heading")]
    for n, row in enumerate(rows, start=1):
        pdq = (row.get("pdq") or {}).get("hex") or "—"
        out.append(f"{n}. SHA-256 {row['sha256']}")
        out.append(f"   MD5 {row['md5']}  PDQ {pdq}  {row['media_type']}  {row['size']} B")
    out += ["", t("how_captured"), "", t("how_verify"), t(f"evidence_{evidence}"), "",
            t("not_sent"), ""]  # fmt: skip
    return "\n".join(out)


def _hash_csv(rows: Sequence[dict[str, Any]]) -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["sha256", "md5", "size", "media_type", "pdq", "pdq_quality", "vpdq_frames"])
    for row in rows:
        pdq = row.get("pdq") or {}
        frames = (row.get("vpdq") or {}).get("frames") or []
        vpdq = ";".join(f"{f['seconds']}:{f['quality']}:{f['hex']}" for f in frames)
        writer.writerow([row["sha256"], row["md5"], row["size"], row["media_type"],
                         pdq.get("hex", ""), pdq.get("quality", ""), vpdq])  # fmt: skip
    return buf.getvalue().encode("utf-8")


class _Writer:
    """Files of the package, each written once with private modes and hashed as written."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.files: list[dict[str, Any]] = []

    def write(self, rel: str, data: bytes) -> None:
        path = self.root / rel
        if not path.parent.is_dir():
            make_private_dir(path.parent)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, PRIVATE_FILE)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        # "name", never "path": a record with a path and a hash is a case file to verifiers
        digest = hashlib.sha256(data).hexdigest()
        self.files.append({"name": rel, "sha256": digest, "size": len(data)})


def _evidence_files(
    case: Case, writer: _Writer, items: Sequence[Item], urls: Sequence[UrlRecord],
    encrypt: Callable[[bytes], bytes] | None,
) -> None:  # fmt: skip
    wanted = [(str(i.item_id), _suffix(i.media_type)) for i in items]
    wanted += [(u.screenshot, ".png") for u in urls if u.screenshot]
    done: set[str] = set()
    for item_id, suffix in wanted:
        if item_id in done:
            continue
        done.add(item_id)
        with case.store.open_plaintext(item_id) as fh:
            data = fh.read()
        if encrypt is None:
            writer.write(f"evidence/{item_id}{suffix}", data)
        else:
            writer.write(f"evidence/{item_id}{suffix}.age", encrypt(data))


def _suffix(media_type: str | None) -> str:
    import mimetypes

    return (mimetypes.guess_extension(media_type or "") or ".bin") if media_type else ".bin"


def write_package(
    case: Case,
    key: ExaminerKey,
    out: Path,
    recipient: str,
    items: Sequence[Item],
    urls: Sequence[UrlRecord],
    rows: Sequence[dict[str, Any]],
    age_key: str | None,
    plaintext: bool,
) -> Package:
    """Write the package under ``out`` (a folder made for it) and log it (case lock held)."""
    from forensic.export.bag import _zip_bag

    encrypt: Callable[[bytes], bytes] | None = None
    if age_key is not None:
        import pyrage

        age = _age_recipient(age_key)
        encrypt = lambda data: bytes(pyrage.encrypt(data, [age]))  # noqa: E731
    evidence = "encrypted" if encrypt else ("plaintext" if plaintext else "none")
    tid = tracking_id(recipient)
    out = Path(os.path.abspath(out))
    folder, zip_path = out / tid, out / f"{tid}.zip"
    if not out.is_dir():
        raise TakedownError("no_out", path=str(out))
    root = case.root.resolve()
    if out.resolve() == root or root in out.resolve().parents:
        raise TakedownError("inside_case", path=str(out))
    with outside_plaintext(case.root, key, "takedown", [folder, zip_path]) as intent:
        make_private_dir(folder)
        writer = _Writer(folder)
        for lang in ("ko", "en"):
            text = letter(lang, case, recipient, tid, urls, rows, evidence)
            writer.write(f"letter.{lang}.txt", text.encode("utf-8"))
        writer.write("hashes.csv", _hash_csv(rows))
        if evidence != "none":
            _evidence_files(case, writer, items, urls, encrypt)
        sums = "".join(f"{f['sha256']}  {f['name']}\n" for f in writer.files)
        writer.write("SHA256SUMS", sums.encode("ascii"))
        fsync_dir(folder)
        zip_sha = _zip_bag(folder, tid, zip_path)
        intent.placed(folder)
        intent.placed(zip_path)
        entry = _log(case, key, tid, recipient, folder, zip_path, zip_sha, writer.files,
                     items, urls, evidence, age_key, intent.run)  # fmt: skip
    ids = tuple(str(i.item_id) for i in items)
    return Package(tid, recipient, folder, zip_path, zip_sha, tuple(writer.files), ids,
                   tuple(urls), evidence, age_key, entry)  # fmt: skip


def _log(
    case: Case, key: ExaminerKey, tid: str, recipient: str, folder: Path, zip_path: Path,
    zip_sha: str, files: list[dict[str, Any]], items: Sequence[Item], urls: Sequence[UrlRecord],
    evidence: str, age_key: str | None, run: str,
) -> CustodyEntry:  # fmt: skip
    head = case.entries()[-1]
    shots = sorted({u.screenshot for u in urls if u.screenshot})
    details: dict[str, Any] = {
        "tracking_id": tid,
        "recipient": recipient,
        "destination": str(folder),
        "zip": str(zip_path),
        "zip_sha256": zip_sha,
        "package_files": files,
        "items": [str(i.item_id) for i in items],
        "urls": [u.url for u in urls],
        "evidence": evidence,
        "age_recipient": age_key,
        "log_head": head.hash,
        "log_head_seq": head.seq,
        "examiner": case.examiner_of(key),
        "tool": tool_record(),
        "run": run,
    }
    # Evidence leaving the case is an access to it: which items, and whether in plaintext.
    case.session.take_decrypted(case.root)
    details["access"] = {
        "verb": "takedown",
        "items": sorted({*details["items"], *shots}) if evidence != "none" else [],
        "decrypted": evidence == "plaintext" and case.store.crypto is not None,
    }
    [entry] = case.record(key, [PendingEntry(ACTION, f"takedown:{tid}", details)])
    return entry
