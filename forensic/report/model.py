"""What a report says, gathered from the case (the custody log is the source of truth)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from forensic._internal.paths import display
from forensic.case import Case
from forensic.case.case import Item, file_sha256
from forensic.case.derived import read_case_file
from forensic.custody.log import CustodyEntry

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")


@dataclass(frozen=True)
class TokenData:
    """One RFC 3161 token over the custody-log head, as recorded in a ``timestamp`` entry."""

    entry_seq: int
    tsa: str
    gen_time: str
    serial: str
    policy: str
    head_seq: int
    head_hash: str
    trusted: bool
    demo: bool
    tsr: str


@dataclass
class ItemData:
    no: int
    item: Item
    file_name: str
    first_trusted: TokenData | None
    source_url: str | None
    chat: str | None
    message: str | None
    metadata: dict[str, Any] | None = None
    findings: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    figures: list[Path] = field(default_factory=list)
    #: stored ``compare`` documents (``media/<sha>/compare-*.json``), in path order
    comparisons: list[dict[str, Any]] = field(default_factory=list)
    derived_problems: list[str] = field(default_factory=list)
    #: (transcript group, chat index, message id) of each message that carries this item
    chat_links: list[tuple[str, int, str]] = field(default_factory=list)
    #: transcript groups this item is a parsed export file of
    export_of: list[str] = field(default_factory=list)
    ocr_text: str | None = None
    web_capture: bool = False

    @property
    def sha256(self) -> str:
        return str(self.item.item_id)

    @property
    def acquired(self) -> str:
        """The first acquisition's recorded instant (UTC), the one ``list`` shows too."""
        return self.item.acquired_utc


@dataclass
class ReportData:
    case: Case
    report_id: str
    created: str
    lang: str
    preview: str
    items: list[ItemData]
    tokens: list[TokenData]
    entries: list[CustodyEntry]
    verification: Any  # forensic.verify.VerificationReport
    tool: dict[str, str]
    chats: list[Any] = field(default_factory=list)  # chat_excerpts.ChatExcerpt
    detail: str = "summary"
    hash_sheet: str = "self"
    show_location: bool = False
    foreign_references: bool = False
    #: the report's own signature is time-stamped by the demo TSA
    signing_demo: bool = False

    @property
    def zone(self) -> str:
        return self.case.info.timezone

    def when(self, utc: str | None) -> str:
        """A stored UTC time in the case's zone with UTC beside it (``—`` when there is none)."""
        from forensic._internal.clock import local_and_utc

        if not utc:
            return "—"
        try:
            return local_and_utc(utc, self.zone).text()
        except ValueError:
            return utc

    @property
    def trusted_tokens(self) -> list[TokenData]:
        return [t for t in self.tokens if t.trusted and not t.demo]

    @property
    def demo_used(self) -> bool:
        """The demo TSA stamped this report or a token of the case: every page says so."""
        return self.signing_demo or any(t.demo for t in self.tokens)

    signature_level: str = "B-T"
    """``B-T``: a TSA time-stamps the signature as it is made. ``B-B``: no TSA answered, the
    report is signed without trusted time (the cover must say so)."""
    timestamp_queued: bool = False
    """B-B only: the time-stamp request is queued; ``forensic timestamp`` adds a document
    time-stamp to the stored report (it becomes B-T)."""

    @property
    def head_seq(self) -> int:
        return self.entries[-1].seq if self.entries else -1

    @property
    def head_hash(self) -> str:
        return self.entries[-1].hash if self.entries else ""


def tokens_from(
    entries: list[CustodyEntry], trusted: dict[tuple[int, str], bool] | None = None
) -> list[TokenData]:
    """The tokens the log records; ``trusted`` (by entry seq and ``.tsr`` path: the re-check of
    :func:`forensic.timestamp.stamp.token_status`) overrides what the entry said at the time."""
    found: list[TokenData] = []
    for entry in entries:
        if entry.action != "timestamp":
            continue
        for tok in entry.details.get("tokens", []) or []:
            if not isinstance(tok, dict):
                continue
            found.append(
                TokenData(
                    entry_seq=entry.seq,
                    tsa=str(tok.get("tsa", "")),
                    gen_time=str(tok.get("gen_time", "")),
                    serial=str(tok.get("serial", "")),
                    policy=str(tok.get("policy", "")),
                    head_seq=int(tok.get("head_seq", -1)),
                    head_hash=str(tok.get("head_hash", "")),
                    trusted=(
                        trusted.get((entry.seq, str(tok.get("tsr", ""))), False)
                        if trusted is not None
                        else bool(tok.get("trusted", False))
                    ),
                    demo=bool(tok.get("demo", False)),
                    tsr=str(tok.get("tsr", "")),
                )
            )
    return found


def first_trusted(seq: int, tokens: list[TokenData]) -> TokenData | None:
    """The earliest token whose stamped log head includes entry ``seq`` (trusted ones first)."""
    covering = [t for t in tokens if t.head_seq >= seq]
    if not covering:
        return None
    trusted = [t for t in covering if t.trusted and not t.demo]
    pool = trusted or covering
    return min(pool, key=lambda t: (t.gen_time, t.entry_seq))


def _source_field(item: Item, *names: str) -> str | None:
    for acq in item.acquisitions:
        src = acq.details.get("source", {}) or {}
        for name in names:
            value = src.get(name) if isinstance(src, dict) else None
            if value is None:
                value = acq.details.get(name)
            if isinstance(value, dict):
                value = value.get("title") or value.get("id") or json.dumps(value)
            if value:
                return str(value)
    return None


def _file_name(item: Item) -> str:
    """The name as the report shows it: control and bidi-override characters escaped."""
    path = item.acquisitions[0].source_path if item.acquisitions else ""
    return display(PurePosixPath(path.replace("\\", "/")).name) or str(item.item_id)[:16]


def _read_vouched(
    case: Case, rel: str, recorded: dict[str, dict[str, Any]], problems: list[str]
) -> Path | None:
    """A derived case file, only if a log entry vouches for it and it still matches."""
    record = recorded.get(rel)
    if record is None:
        return None
    path = case.root / rel
    if not path.is_file():
        problems.append(f"{rel}: missing")
        return None
    if file_sha256(path) != record.get("sha256"):
        problems.append(f"{rel}: SHA-256 differs from the log")
        return None
    return path


def _load_json(path: Path, problems: list[str], case: Case) -> dict[str, Any] | None:
    try:
        data = json.loads(read_case_file(case, path).decode("utf-8"))
    except (OSError, ValueError) as exc:
        problems.append(f"{path.name}: {exc}")
        return None
    return data if isinstance(data, dict) else {"value": data}


def derived_data(case: Case, data: ItemData, recorded: dict[str, dict[str, Any]]) -> None:
    """Attach ``media/<sha>/metadata.json`` and ``analysis/<sha>/*`` when the log vouches."""
    sha = data.sha256
    meta = _read_vouched(case, f"media/{sha}/metadata.json", recorded, data.derived_problems)
    if meta is not None:
        data.metadata = _load_json(meta, data.derived_problems, case)
    compared = f"media/{sha}/compare-"
    for rel in sorted(r for r in recorded if r.startswith(compared) and r.endswith(".json")):
        path = _read_vouched(case, rel, recorded, data.derived_problems)
        doc = _load_json(path, data.derived_problems, case) if path is not None else None
        if doc is not None:
            data.comparisons.append(doc)
    prefix = f"analysis/{sha}/"
    for rel in sorted(r for r in recorded if r.startswith(prefix)):
        path = _read_vouched(case, rel, recorded, data.derived_problems)
        if path is None:
            continue
        if path.suffix == ".json":
            doc = _load_json(path, data.derived_problems, case)
            if doc is not None:
                data.findings.append((rel.removeprefix(prefix), doc))
        elif path.suffix.lower() in IMAGE_SUFFIXES:
            data.figures.append(path)


def select_items(all_items: list[Item], wanted: list[str]) -> list[Item]:
    if not wanted:
        return all_items
    from forensic.report.errors import ReportUsageError

    chosen: list[Item] = []
    for prefix in wanted:
        p = prefix.lower().removeprefix("sha256:")
        matches = [i for i in all_items if i.item_id.startswith(p)]
        if len(p) < 6 or not matches:
            raise ReportUsageError("no_such_item", item=prefix)
        if len(matches) > 1:
            raise ReportUsageError("ambiguous_item", item=prefix, count=len(matches))
        if matches[0] not in chosen:
            chosen.append(matches[0])
    return chosen


def manifest(data: ReportData) -> dict[str, Any]:
    """The case manifest attached to the PDF (machine-readable twin of the report)."""
    info = data.case.info
    return {
        "format": "forensic-report-manifest",
        "v": 1,
        "report_id": data.report_id,
        "created": data.created,
        "case": {
            "case_id": info.case_id,
            "title": info.title,
            "examiner": info.examiner,
            "organisation": info.organisation,
            "public_key_fingerprint": info.public_key_fingerprint,
        },
        "custody_log": {
            "entries": len(data.entries),
            "head_seq": data.head_seq,
            "head_hash": data.head_hash,
        },
        "items": [
            {
                "no": d.no,
                "sha256": d.sha256,
                "size": d.item.size,
                "media_type": d.item.media_type,
                "file_name": d.file_name,
                "acquired": d.acquired,
                "first_trusted_time": d.first_trusted.gen_time if d.first_trusted else None,
                "source_url": d.source_url,
            }
            for d in data.items
        ],
        "tokens": [t.__dict__ for t in data.tokens],
        "signature": {
            "level": f"PAdES-{data.signature_level}",
            "timestamp_queued": data.timestamp_queued,
        },
        "verification": {
            "intact": bool(data.verification.intact),
            "problems": [p.as_dict() for p in data.verification.problems],
        },
        "tool": data.tool,
    }


def _chat_links(entries: list[CustodyEntry]) -> dict[str, list[tuple[str, int, str]]]:
    links: dict[str, list[tuple[str, int, str]]] = {}
    for e in entries:
        if e.action != "transcript":
            continue
        for link in e.details.get("media_links", []) or []:
            if isinstance(link, list) and len(link) == 3:
                links.setdefault(str(link[2]), []).append((e.subject, int(link[0]), str(link[1])))
    return links


def item_data(
    case: Case, items: list[Item], entries: list[CustodyEntry], tokens: list[TokenData]
) -> list[ItemData]:
    recorded = case.recorded_files(entries)
    links = _chat_links(entries)
    out: list[ItemData] = []
    for n, item in enumerate(items, start=1):
        first_seq = item.acquisitions[0].seq if item.acquisitions else 0
        d = ItemData(
            no=n,
            item=item,
            file_name=_file_name(item),
            first_trusted=first_trusted(first_seq, tokens),
            source_url=_source_field(item, "url", "source_url"),
            chat=_source_field(item, "chat"),
            message=_source_field(item, "message", "message_id"),
        )
        derived_data(case, d, recorded)
        d.chat_links = links.get(item.item_id, [])
        ocr_path = _read_vouched(case, f"ocr/{item.item_id}.json", recorded, d.derived_problems)
        if ocr_path is not None:
            doc = _load_json(ocr_path, d.derived_problems, case)
            text = str((doc or {}).get("text") or "").strip()
            d.ocr_text = text or None
        d.web_capture = any(
            str(a.details.get("source", {}).get("path", "")).startswith("web:")
            for a in item.acquisitions
        )
        out.append(d)
    return out


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
