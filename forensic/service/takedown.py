"""``takedown``: a request package for the victims' support centre, the KCSC or a platform.

The package (a folder and its zip, :mod:`forensic.export.takedown`) is written for the user to
hand over; the tool sends nothing. Watching the same URLs afterwards (``watch``) shows whether
the request was acted on.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from forensic._internal.clock import local_and_utc
from forensic.errors import ForensicError
from forensic.progress import SILENT, ProgressReporter
from forensic.service.opening import open_for_writing
from forensic.session import Session

if TYPE_CHECKING:
    from forensic.case import Case
    from forensic.custody.log import CustodyEntry
    from forensic.export.takedown import Package, UrlRecord
    from forensic.timestamp import TimestampResult


@dataclass(frozen=True)
class TakedownResult:
    package: Package
    warnings: tuple[str, ...]
    """``no_evidence`` (no age key, no ``--plaintext``: the hash list and letter only),
    ``plaintext`` (evidence files unencrypted), ``unwatched`` (a URL never checked)."""
    zone: str
    stamped: TimestampResult | None = None
    timestamp_error: str | None = None

    def as_dict(self) -> dict[str, Any]:
        p = self.package
        return {
            "ok": True,
            "takedown": {
                "tracking_id": p.tracking_id,
                "recipient": p.recipient,
                "folder": str(p.folder),
                "zip": str(p.zip_path),
                "zip_sha256": p.zip_sha256,
                "evidence": p.evidence,
                "age_recipient": p.age_recipient,
                "items": list(p.items),
                "urls": [
                    {
                        "url": u.url,
                        "state": u.state,
                        "first_seen": _when(u.first_seen, self.zone),
                        "last_seen": _when(u.last_seen, self.zone),
                        "gone_at": _when(u.gone_at, self.zone),
                        "trusted_time": u.trusted,
                    }
                    for u in p.urls
                ],
                "files": list(p.files),
                "log_entry": p.entry.seq,
            },
            "warnings": list(self.warnings),
            "timestamp": self.stamped.as_dict() if self.stamped is not None else None,
        }


def _when(utc: str | None, zone: str) -> dict[str, str] | None:
    return local_and_utc(utc, zone).as_dict() if utc else None


def url_records(case: Case, entries: list[CustodyEntry], urls: Sequence[str]) -> list[UrlRecord]:
    """What the watch entries say of each URL (a URL never watched has no times)."""
    from forensic.capture.watch import timelines
    from forensic.export.takedown import UrlRecord
    from forensic.service.watching import token_cover

    known = {t.url: t for t in timelines(entries, token_cover(case, entries))}
    out: list[UrlRecord] = []
    for url in urls:
        t = known.get(url)
        if t is None:
            out.append(UrlRecord(url, None, None, None, None, None, None))
            continue
        first = t.first_seen or t.spans[0].first
        cover = next((s.covered_by for s in t.spans if s.first is first), None)
        shots = [
            s.first.items["screenshot.png"]
            for s in t.spans
            if s.state in ("available", "changed") and "screenshot.png" in s.first.items
        ]
        gone = t.gone_at
        out.append(UrlRecord(
            url, t.current, t.first_seen.started if t.first_seen else None,
            t.last_seen.started if t.last_seen else None, gone.started if gone else None,
            cover, shots[-1] if shots else None,
        ))  # fmt: skip
    return out


def takedown(
    session: Session,
    to: str,
    items: Sequence[str],
    urls: Sequence[str],
    out: Path,
    *,
    age_recipient: str | None = None,
    plaintext: bool = False,
    case_dir: Path | None = None,
    progress: ProgressReporter = SILENT,
) -> TakedownResult:
    """Write the request package for ``to`` under ``out`` and log it (``export-takedown``)."""
    from forensic.capture.web import check_url
    from forensic.export.takedown import RECIPIENTS, TakedownError, write_package
    from forensic.media.perceptual import hash_list_rows, store_perceptual
    from forensic.timestamp import stamp_after_write

    if to not in RECIPIENTS:
        raise TakedownError("bad_recipient", to=to, known=", ".join(RECIPIENTS))
    if not items and not urls:
        raise TakedownError("nothing")
    for url in urls:
        check_url(url)
    if age_recipient is not None and plaintext:
        raise TakedownError("key_and_plaintext")
    case, key = open_for_writing(session, case_dir)
    with case.writing(key):
        chosen = list({str(i.item_id): i for i in (case.resolve_item(g) for g in items)}.values())
        store_perceptual(case, key, [str(i.item_id) for i in chosen], progress)
        ids = {str(i.item_id) for i in chosen}
        rows = [r for r in hash_list_rows(case)[0] if r["sha256"] in ids]
        entries = case.entries()
        records = url_records(case, entries, urls)
        package = write_package(case, key, out, to, chosen, records, rows, age_recipient, plaintext)
    warnings = []
    if age_recipient is None:
        warnings.append("plaintext" if plaintext else "no_evidence")
    if any(r.state is None for r in records):
        warnings.append("unwatched")
    stamped, stamp_error = None, None
    try:
        stamped = stamp_after_write(case, key)
    except ForensicError as exc:
        stamp_error = exc.diagnostics(session.lang)
    return TakedownResult(package, tuple(warnings), case.info.timezone, stamped, stamp_error)
