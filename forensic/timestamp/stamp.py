"""Stamp the custody log's head with RFC 3161 TSAs; queue what fails; re-verify stored tokens.

Only the SHA-256 hash of the last committed log line leaves the machine (never an evidence
hash): the head depends on the case's random salt, so the TSA learns nothing about the evidence.

Case layout: ``timestamps/<seq>-<tsa>.tsq|.tsr|.chain.pem`` for accepted tokens and
``timestamps/queue/<seq>-<tsa>.json`` for requests that failed. The log is the source of truth:
a ``timestamp-queued`` entry lists queued requests, a ``timestamp`` entry lists accepted tokens
(with ``queue_id`` when a queued request was sent later). Queue files are never deleted (the
log vouches for them); a request is pending while no ``timestamp`` entry names its id.

The case lock is never held while a TSA is asked: the head and the queue are read under it,
the requests are sent with no lock, and the answers are committed in one write transaction
(:mod:`forensic.case.step`): token and queue files staged, logged, then moved into place.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from forensic._internal.clock import parse_utc, utc_timestamp
from forensic.case.case import Case, tool_record
from forensic.case.step import Step, unfinished_paths
from forensic.custody.keys import ExaminerKey
from forensic.custody.log import CustodyEntry, PendingEntry
from forensic.errors import ForensicError
from forensic.i18n import message
from forensic.problem import Problem
from forensic.timestamp.authority import (
    TimestampAuthority,
    load_certs,
    load_config,
    trust_anchors,
)
from forensic.timestamp.errors import TimestampError
from forensic.timestamp.token import (
    TimestampRequest,
    VerifiedToken,
    cert_sha256,
    send_request,
    verify_response,
)

TS_DIR = "timestamps"
QUEUE_DIR = "timestamps/queue"
REPORT_KIND = "report"
"""A queued request for a stored report's document time-stamp (not for a log head)."""
REPORT_STAMP_ACTION = "report-timestamp"


@dataclass(frozen=True)
class StampedToken:
    tsa: str
    url: str
    head_seq: int
    head_hash: str
    gen_time: str
    serial: int
    policy: str
    tsq: str
    tsr: str
    chain: str
    root_sha256: str
    trusted: bool
    demo: bool
    queue_id: str | None = None

    def as_dict(self) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "tsa": self.tsa,
            "url": self.url,
            "head_seq": self.head_seq,
            "head_hash": self.head_hash,
            "gen_time": self.gen_time,
            "serial": str(self.serial),
            "policy": self.policy,
            "tsq": self.tsq,
            "tsr": self.tsr,
            "chain": self.chain,
            "root_sha256": self.root_sha256,
            "trusted": self.trusted,
            "demo": self.demo,
        }
        if self.queue_id is not None:
            doc["queue_id"] = self.queue_id
        return doc


@dataclass(frozen=True)
class QueuedRequest:
    queue_id: str
    tsa: str
    url: str
    head_seq: int
    head_hash: str
    error: str
    message: str
    path: str
    retried: bool = False
    error_obj: TimestampError | None = field(default=None, compare=False, repr=False)
    report_id: str | None = None
    """A document time-stamp for this stored report (``kind: report``), not a log head."""

    def as_dict(self) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "id": self.queue_id,
            "tsa": self.tsa,
            "url": self.url,
            "head_seq": self.head_seq,
            "head_hash": self.head_hash,
            "error": self.error,
            "message": self.message,
            "path": self.path,
            "retried": self.retried,
        }
        if self.report_id is not None:
            doc["kind"] = REPORT_KIND
            doc["report_id"] = self.report_id
        return doc


@dataclass(frozen=True)
class ReportStamp:
    """A document time-stamp added to a stored report (it is now PAdES-B-T)."""

    report_id: str
    path: str
    queue_id: str
    tsa: str
    gen_time: str
    demo: bool
    sha256: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "report_id": self.report_id,
            "path": self.path,
            "queue_id": self.queue_id,
            "tsa": self.tsa,
            "gen_time": self.gen_time,
            "demo": self.demo,
            "sha256": self.sha256,
            "level": "PAdES-B-T",
        }


@dataclass
class TimestampResult:
    """What one run of stamping did: tokens accepted, requests queued (new or still pending)."""

    head_seq: int
    head_hash: str
    tokens: list[StampedToken] = field(default_factory=list)
    queued: list[QueuedRequest] = field(default_factory=list)
    entries: list[CustodyEntry] = field(default_factory=list)
    reports: list[ReportStamp] = field(default_factory=list)
    zone: str = "Asia/Seoul"
    """The case's zone, in which the human lines show each genTime (UTC beside it)."""

    def as_dict(self) -> dict[str, Any]:
        return {
            "head_seq": self.head_seq,
            "head_hash": self.head_hash,
            "tokens": [t.as_dict() for t in self.tokens],
            "queued": [q.as_dict() for q in self.queued],
            "entries": [e.seq for e in self.entries],
            "reports": [r.as_dict() for r in self.reports],
        }


# -- the queue ----------------------------------------------------------------------------
def _queue_doc(tsa: TimestampAuthority, request: TimestampRequest, error: str) -> dict[str, Any]:
    return {
        "v": 1,
        "format": "forensic-timestamp-request",
        "tsa": {"name": tsa.name, "url": tsa.url, "roots_pem": tsa.roots_pem(), "demo": tsa.demo},
        "head_seq": request.head_seq,
        "head_hash": request.head_hash,
        "nonce": str(request.nonce),
        "tsq": base64.b64encode(request.der).decode("ascii"),
        "queued": utc_timestamp(),
        "first_error": error,
    }


def pending_queue(case: Case, entries: list[CustodyEntry] | None = None) -> list[dict[str, Any]]:
    """Queued requests that no ``timestamp`` entry has resolved yet (from the log)."""
    entries = entries if entries is not None else case.entries()
    queued: dict[str, dict[str, Any]] = {}
    done: set[str] = set()
    for entry in entries:
        if entry.action == "timestamp-queued":
            for q in entry.details.get("queued", []) or []:
                if isinstance(q, dict) and not q.get("retried"):
                    queued[str(q["id"])] = q
        elif entry.action == "timestamp":
            for t in entry.details.get("tokens", []) or []:
                if isinstance(t, dict) and t.get("queue_id"):
                    done.add(str(t["queue_id"]))
        elif entry.action == REPORT_STAMP_ACTION and entry.details.get("queue_id"):
            done.add(str(entry.details["queue_id"]))
    return [q for qid, q in queued.items() if qid not in done]


def _queued_tsa(doc: dict[str, Any]) -> TimestampAuthority:
    tsa_doc = doc["tsa"]
    return TimestampAuthority(
        name=str(tsa_doc["name"]),
        url=str(tsa_doc["url"]),
        roots=tuple(p.encode("ascii") for p in tsa_doc["roots_pem"]),
        demo=bool(tsa_doc.get("demo", False)),
    )


def _load_queued(case: Case, record: dict[str, Any]) -> tuple[TimestampAuthority, TimestampRequest]:
    doc = json.loads((case.root / str(record["path"])).read_text("utf-8"))
    tsa = _queued_tsa(doc)
    request = TimestampRequest.load(
        int(doc["head_seq"]), str(doc["head_hash"]), base64.b64decode(doc["tsq"])
    )
    return tsa, request


def _free_stem(folder: Path, stem: str, suffixes: tuple[str, ...], taken: set[str]) -> str:
    """A file stem not used in ``folder`` nor by a file this step already staged."""
    candidate, n = stem, 1
    while any(
        (folder / f"{candidate}{s}").exists() or f"{candidate}{s}" in taken for s in suffixes
    ):
        n += 1
        candidate = f"{stem}-{n}"
    taken.update(f"{candidate}{s}" for s in suffixes)
    return candidate


@dataclass(frozen=True)
class _Answer:
    """A TSA's verified token, not yet stored."""

    tsa: TimestampAuthority
    request: TimestampRequest
    response: bytes
    token: VerifiedToken
    queue_id: str | None


@dataclass(frozen=True)
class _Refusal:
    """A new request a TSA did not answer: it goes to the queue."""

    tsa: TimestampAuthority
    request: TimestampRequest
    error: TimestampError


@dataclass(frozen=True)
class _StoredReport:
    """A stored report whose document time-stamp is queued, read under the case lock."""

    queue: dict[str, Any]
    tsa: TimestampAuthority
    rel: str
    body: bytes
    """The PDF itself (decrypted in an encrypted case)."""

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.body).hexdigest()


@dataclass(frozen=True)
class _Document:
    """A stored report with its new document time-stamp, not yet stored."""

    report: _StoredReport
    body: bytes
    token: VerifiedToken


@dataclass
class _Round:
    """What one round of asking the TSAs gave (no file written yet)."""

    answers: list[_Answer] = field(default_factory=list)
    refusals: list[_Refusal] = field(default_factory=list)
    retried: list[QueuedRequest] = field(default_factory=list)
    documents: list[_Document] = field(default_factory=list)


# -- report time-stamps -------------------------------------------------------------------------
def _token_record(tsa: TimestampAuthority, token: VerifiedToken, chain: str) -> dict[str, Any]:
    return {
        "tsa": tsa.name,
        "url": tsa.url,
        "gen_time": token.gen_time.isoformat().replace("+00:00", "Z"),
        "serial": str(token.serial),
        "policy": token.policy,
        "root_sha256": cert_sha256(token.root),
        "chain": chain,
        "trusted": not tsa.demo,
        "demo": tsa.demo,
    }


def stage_token_chain(
    case: Case, step: Step, tsa: TimestampAuthority, token: VerifiedToken, stem: str
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Stage the chain of a PDF's time-stamp token (signer to root) in ``timestamps/``: what
    ``verify`` checks the token against (by the root's recorded SHA-256). Returns the token's
    record for the entry and the staged file's record."""
    name = _free_stem(case.root / TS_DIR, f"{stem}-{tsa.slug}", (".chain.pem",), set())
    record = step.stage_exact(f"{TS_DIR}/{name}.chain.pem", token.chain_pem())
    return _token_record(tsa, token, str(record["path"])), record


def stage_report_request(
    case: Case,
    step: Step,
    tsa: TimestampAuthority,
    report_id: str,
    rel: str,
    error: TimestampError,
) -> tuple[QueuedRequest, dict[str, Any]]:
    """Queue a document time-stamp for the stored report ``rel`` (its TSA did not answer):
    ``timestamps/queue/report-<id>-<tsa>.json``, sent by the next ``forensic timestamp``."""
    stem = _free_stem(case.root / QUEUE_DIR, f"report-{report_id}-{tsa.slug}", (".json",), set())
    doc = {
        "v": 1,
        "format": "forensic-report-timestamp-request",
        "kind": REPORT_KIND,
        "tsa": {"name": tsa.name, "url": tsa.url, "roots_pem": tsa.roots_pem(), "demo": tsa.demo},
        "report_id": report_id,
        "report": rel,
        "queued": utc_timestamp(),
        "first_error": error.key,
    }
    body = json.dumps(doc, indent=2).encode("utf-8") + b"\n"
    record = step.stage_exact(f"{QUEUE_DIR}/{stem}.json", body)
    queued = QueuedRequest(
        stem, tsa.name, tsa.url, -1, "", error.key, _error_text(error), str(record["path"]),
        error_obj=error, report_id=report_id,
    )  # fmt: skip
    return queued, record


def queued_entry(
    case: Case, step: Step, queued: list[QueuedRequest], files: list[dict[str, Any]]
) -> PendingEntry:
    """The ``timestamp-queued`` entry that logs requests a TSA did not answer."""
    details = {
        "queued": [q.as_dict() for q in queued],
        "tool": tool_record(),
        "files": files,
        "run": step.run,
    }
    return PendingEntry("timestamp-queued", f"case:{case.info.case_id}", details)


def _pending_reports(case: Case, queue: list[dict[str, Any]]) -> list[_StoredReport]:
    """The stored reports the queue asks a document time-stamp for, each read only when it
    is the version the log vouches for (anything else is for ``verify`` to name)."""
    from forensic.case.derived import read_case_file

    recorded = case.recorded_files()
    found: list[_StoredReport] = []
    for record in queue:
        if record.get("kind") != REPORT_KIND:
            continue
        try:
            doc = json.loads((case.root / str(record["path"])).read_text("utf-8"))
            rel = str(doc["report"])
            tsa = _queued_tsa(doc)
            vouched = recorded[rel]
            if rel.startswith("/") or ".." in rel.split("/"):
                continue
            body = read_case_file(case, case.root / rel)
        except (OSError, ValueError, KeyError, TypeError, ForensicError):
            continue
        report = _StoredReport(record, tsa, rel, body)
        if report.sha256 == vouched.get("plaintext_sha256", vouched.get("sha256")):
            found.append(report)
    return found


def _ask_reports(
    reports: Sequence[_StoredReport], found: _Round, failed_urls: set[str], timeout: float
) -> None:
    """Append a document time-stamp to each queued report (network; no lock)."""
    from forensic.timestamp.pdf import add_document_timestamp

    for report in reports:
        tsa, record = report.tsa, report.queue
        if tsa.url in failed_urls:
            continue
        try:
            body, token = add_document_timestamp(report.body, tsa, timeout)
        except TimestampError as exc:
            failed_urls.add(tsa.url)
            found.retried.append(
                QueuedRequest(
                    str(record["id"]),
                    tsa.name,
                    tsa.url,
                    -1,
                    "",
                    exc.key,
                    _error_text(exc),
                    str(record["path"]),
                    retried=True,
                    error_obj=exc,
                    report_id=str(record.get("report_id")),
                )
            )
            continue
        found.documents.append(_Document(report, body, token))


def _store_document(
    case: Case, step: Step, document: _Document, recorded: dict[str, dict[str, Any]]
) -> tuple[ReportStamp, PendingEntry] | None:
    """Stage the time-stamped report over the stored one (a new version of the same path) and
    its token's chain; the ``report-timestamp`` entry. None when the stored report changed
    since it was read (another run stamped it)."""
    report = document.report
    vouched = recorded.get(report.rel, {})
    if report.sha256 != vouched.get("plaintext_sha256", vouched.get("sha256")):
        return None
    report_id = str(report.queue.get("report_id"))
    pdf = step.stage_file(report.rel, document.body)
    stamp, chain = stage_token_chain(
        case, step, report.tsa, document.token, f"{report_id}-document"
    )
    details = {
        "report_id": report_id,
        "path": report.rel,
        "queue_id": str(report.queue["id"]),
        "level": "PAdES-B-T",
        "supersedes": {
            "sha256": report.sha256,
            "size": len(report.body),
            "seq": vouched.get("seq"),
        },
        "document_timestamp": stamp,
        "tool": tool_record(),
        "files": [pdf, chain],
        "run": step.run,
    }
    done = ReportStamp(
        report_id, report.rel, str(report.queue["id"]), report.tsa.name, str(stamp["gen_time"]),
        report.tsa.demo, hashlib.sha256(document.body).hexdigest(),
    )  # fmt: skip
    return done, PendingEntry(REPORT_STAMP_ACTION, f"case:{case.info.case_id}", details)


# -- stamping -----------------------------------------------------------------------------
def _store_token(
    case: Case, step: Step, answer: _Answer, taken: set[str]
) -> tuple[StampedToken, list[dict[str, Any]]]:
    tsa, request, token = answer.tsa, answer.request, answer.token
    folder = case.root / TS_DIR
    suffixes = (".tsq", ".tsr", ".chain.pem")
    stem = _free_stem(folder, f"{request.head_seq}-{tsa.slug}", suffixes, taken)
    data = (request.der, answer.response, token.chain_pem())
    records = [
        step.stage_exact(f"{TS_DIR}/{stem}{suffix}", body)
        for suffix, body in zip(suffixes, data, strict=True)
    ]
    rel = [str(r["path"]) for r in records]
    stamped = StampedToken(
        tsa=tsa.name,
        url=tsa.url,
        head_seq=request.head_seq,
        head_hash=request.head_hash,
        gen_time=token.gen_time.isoformat().replace("+00:00", "Z"),
        serial=token.serial,
        policy=token.policy,
        tsq=rel[0],
        tsr=rel[1],
        chain=rel[2],
        root_sha256=cert_sha256(token.root),
        trusted=not tsa.demo,
        demo=tsa.demo,
        queue_id=answer.queue_id,
    )
    return stamped, records


def _store_refusal(
    case: Case, step: Step, refusal: _Refusal, taken: set[str]
) -> tuple[QueuedRequest, dict[str, Any]]:
    tsa, request, exc = refusal.tsa, refusal.request, refusal.error
    stem = _free_stem(case.root / QUEUE_DIR, f"{request.head_seq}-{tsa.slug}", (".json",), taken)
    doc = _queue_doc(tsa, request, exc.key)
    body = json.dumps(doc, indent=2).encode("utf-8") + b"\n"
    record = step.stage_exact(f"{QUEUE_DIR}/{stem}.json", body)
    queued = QueuedRequest(
        stem,
        tsa.name,
        tsa.url,
        request.head_seq,
        request.head_hash,
        exc.key,
        _error_text(exc),
        str(record["path"]),
        error_obj=exc,
    )
    return queued, record


def _attempt(
    tsa: TimestampAuthority, request: TimestampRequest, timeout: float
) -> tuple[bytes, VerifiedToken]:
    response = send_request(tsa, request, timeout)
    return response, verify_response(response, request, tsa)


def _error_text(exc: ForensicError) -> str:
    return exc.diagnostics("en")


def _ask(
    case: Case,
    queue: list[dict[str, Any]],
    tsas: list[TimestampAuthority],
    head: tuple[int, str],
    timeout: float,
    reports: Sequence[_StoredReport] = (),
) -> _Round:
    """Send the queued requests, then a new one per TSA for ``head``, then the queued
    reports' document time-stamps (network; no lock)."""
    found = _Round()
    failed_urls: set[str] = set()
    for record in queue:
        if record.get("kind") == REPORT_KIND:
            continue  # a stored report's document time-stamp: _ask_reports
        try:
            tsa, request = _load_queued(case, record)
        except (OSError, ValueError, KeyError, TypeError, ForensicError):
            continue
        if tsa.url in failed_urls:
            continue
        try:
            response, token = _attempt(tsa, request, timeout)
        except TimestampError as exc:
            failed_urls.add(tsa.url)
            found.retried.append(
                QueuedRequest(
                    str(record["id"]),
                    tsa.name,
                    tsa.url,
                    request.head_seq,
                    request.head_hash,
                    exc.key,
                    _error_text(exc),
                    str(record["path"]),
                    retried=True,
                    error_obj=exc,
                )
            )
            continue
        found.answers.append(_Answer(tsa, request, response, token, str(record["id"])))
    for tsa in tsas:
        if tsa.url in failed_urls:
            # its older request is still queued; once sent, the next run stamps the head
            continue
        request = TimestampRequest.new(*head)
        try:
            response, token = _attempt(tsa, request, timeout)
        except TimestampError as exc:
            found.refusals.append(_Refusal(tsa, request, exc))
            continue
        found.answers.append(_Answer(tsa, request, response, token, None))
    _ask_reports(reports, found, failed_urls, timeout)
    return found


def _commit(case: Case, key: ExaminerKey, found: _Round, result: TimestampResult) -> None:
    """Store the tokens and queue files and log them: one step, one group commit."""
    with case.step(key, "timestamp") as step:
        taken: set[str] = set()
        token_files: list[dict[str, Any]] = []
        queue_files: list[dict[str, Any]] = []
        for answer in found.answers:
            stamped, records = _store_token(case, step, answer, taken)
            result.tokens.append(stamped)
            token_files.extend(records)
        result.queued.extend(found.retried)
        for refusal in found.refusals:
            queued, record = _store_refusal(case, step, refusal, taken)
            result.queued.append(queued)
            queue_files.append(record)
        pending: list[PendingEntry] = []
        subject = f"case:{case.info.case_id}"
        if result.tokens:
            details = {
                "hash_algorithm": "sha256",
                "imprint_of": "custody log head line",
                "tokens": [t.as_dict() for t in result.tokens],
                "tool": tool_record(),
                "files": token_files,
                "run": step.run,
            }
            pending.append(PendingEntry("timestamp", subject, details))
        recorded = case.recorded_files() if found.documents else {}
        for document in found.documents:
            stored = _store_document(case, step, document, recorded)
            if stored is not None:
                result.reports.append(stored[0])
                pending.append(stored[1])
        if result.queued:
            pending.append(queued_entry(case, step, result.queued, queue_files))
        result.entries = step.record(pending)


def stamp_head(
    case: Case,
    key: ExaminerKey,
    tsas: list[TimestampAuthority],
    *,
    timeout: float | None = None,
    send_queue: bool = True,
) -> TimestampResult:
    """Stamp the current log head with every TSA (and send the queue); log what happened.

    Never raises for a TSA failure: the request is stored in ``timestamps/queue/`` and logged
    (``timestamp-queued``); each accepted token is logged in one ``timestamp`` entry. The head
    is read under the case lock (after recovery), the TSAs are asked with no lock held.
    """
    timeout = timeout if timeout is not None else load_config().timeout
    if case.holding:
        raise RuntimeError("stamp_head asks TSAs: it must not run under the case lock")
    with case.writing(key):
        next_seq, head_hash = case.log.head()
        queue = pending_queue(case) if send_queue else []
        reports = _pending_reports(case, queue)
    result = TimestampResult(head_seq=next_seq - 1, head_hash=head_hash, zone=case.info.timezone)
    found = _ask(case, queue, tsas, (result.head_seq, head_hash), timeout, reports)
    if found.answers or found.refusals or found.retried or found.documents:
        _commit(case, key, found, result)
    return result


def stamp_after_write(case: Case, key: ExaminerKey) -> TimestampResult | None:
    """For capture: stamp the new head when ``[timestamp] auto = true`` in the ``forensic.toml``
    of the case's session home.

    Returns None when automatic stamping is off or no TSA is configured; TSA failures are
    queued, never raised; a bad configuration raises its usage error.
    """
    config = load_config(case.session.home)
    if not config.auto or not config.tsas:
        return None
    return stamp_head(case, key, list(config.tsas), timeout=config.timeout)


# -- re-verification ------------------------------------------------------------------------
CLOCK_SKEW = timedelta(minutes=5)
"""How far a token's genTime may fall before the log entries it covers (the examiner's clock
against the TSA's; Kerberos allows the same). Further back, the token contradicts the log."""


@dataclass(frozen=True)
class TokenCheck:
    seq: int
    token: dict[str, Any]
    ok: bool
    trusted: bool
    """Verified, not demo, and its chain ends in a root of this machine's trust anchors
    (:func:`forensic.timestamp.authority.trust_anchors`): the one field a reader of trusted
    time looks at. The ``trusted`` flag stored in the case is never read."""
    demo: bool
    problem: str | None = None
    gen_time: str = ""
    """The verified token's genTime (UTC, ``…Z``); empty when it did not verify."""
    root_sha256: str = ""
    """SHA-256 of the DER of the root the token verified against."""


@dataclass(frozen=True)
class _Checking:
    """What every token of one case is checked against, computed once."""

    anchors: frozenset[str]
    line_hashes: dict[int, str]
    latest: list[tuple[datetime, int]]
    """Per seq: the latest entry time up to that seq and the entry that has it."""

    @classmethod
    def of(cls, case: Case, entries: list[CustodyEntry]) -> _Checking:
        latest: list[tuple[datetime, int]] = []
        for entry in sorted(entries, key=lambda e: e.seq):
            if entry.seq != len(latest):
                break  # a gap: the log check names it; nothing past it is compared
            try:
                moment = parse_utc(entry.time)
            except ValueError:
                moment = datetime.min.replace(tzinfo=UTC)
            best = latest[-1] if latest else (datetime.min.replace(tzinfo=UTC), -1)
            latest.append(max(best, (moment, entry.seq)))
        return cls(trust_anchors(case.session.home), {e.seq: e.hash for e in entries}, latest)

    def covered_after(self, head_seq: int, gen_time: datetime) -> tuple[datetime, int] | None:
        """The latest entry up to ``head_seq`` written after ``gen_time`` (beyond the skew)."""
        if not 0 <= head_seq < len(self.latest):
            return None
        moment, seq = self.latest[head_seq]
        return (moment, seq) if gen_time + CLOCK_SKEW < moment else None


def _check_one(case: Case, seq: int, tok: dict[str, Any], ctx: _Checking) -> TokenCheck:
    demo = bool(tok.get("demo"))

    def bad(kind: str, detail: str) -> TokenCheck:
        return TokenCheck(seq, tok, False, False, demo, f"{kind}: {detail}")

    head_seq = int(tok.get("head_seq", -1))
    head_hash = str(tok.get("head_hash", ""))
    if ctx.line_hashes.get(head_seq) != head_hash:
        return bad("head_mismatch", f"head {head_seq} of the log is not {head_hash[:16]}")
    try:
        tsq = (case.root / str(tok["tsq"])).read_bytes()
        tsr = (case.root / str(tok["tsr"])).read_bytes()
        chain = load_certs((case.root / str(tok["chain"])).read_bytes(), source=str(tok["chain"]))
        request = TimestampRequest.load(head_seq, head_hash, tsq)
    except (OSError, KeyError, ValueError, TypeError, ForensicError) as exc:
        return bad("token_unreadable", str(exc)[:200])
    roots = [c for c in chain if cert_sha256(c) == tok.get("root_sha256")]
    if not roots:
        return bad("root_missing", "the recorded root is not in the chain file")
    tsa = TimestampAuthority(str(tok.get("tsa")), str(tok.get("url")), (), demo=demo)
    try:
        verified = verify_response(tsr, request, tsa, roots=roots)
    except ForensicError as exc:
        return bad(f"token_{exc.key}", exc.diagnostics("en"))
    gen_time = verified.gen_time.astimezone(UTC)
    stamp = gen_time.isoformat().replace("+00:00", "Z")
    if _gen_moment(tok) != gen_time:
        return bad("gen_time_mismatch", f"the log records {tok.get('gen_time')}, the token {stamp}")
    later = ctx.covered_after(head_seq, gen_time)
    if later is not None:
        return bad(
            "gen_time_before_entry",
            f"genTime {stamp} is before entry seq {later[1]} ({utc_timestamp(later[0])}) "
            "that the token covers: the token contradicts the log",
        )
    root = cert_sha256(verified.root)
    trusted = root in ctx.anchors and not demo
    return TokenCheck(seq, tok, True, trusted, demo, None, stamp, root)


def _stored_tokens(case: Case, entries: list[CustodyEntry]) -> list[tuple[int, dict[str, Any]]]:
    """(entry seq, token record) of every token whose files are in place."""
    # a committed step whose token files are still staged: verify names those files as
    # unfinished (interrupted); the token is checked once recovery has moved them in
    staged = unfinished_paths(case, entries)
    return [
        (entry.seq, tok)
        for entry in entries
        if entry.action == "timestamp"
        for tok in entry.details.get("tokens", []) or []
        if isinstance(tok, dict)
        and not staged.intersection(str(tok.get(k)) for k in ("tsq", "tsr", "chain"))
    ]


def token_status(case: Case, entries: list[CustodyEntry] | None = None) -> list[TokenCheck]:
    """Re-verify every stored token: the recorded head hash, its recorded root, its genTime
    against the log, and whether that root is one of this machine's trust anchors."""
    entries = entries if entries is not None else case.entries()
    found = _stored_tokens(case, entries)
    if not found:
        return []
    ctx = _Checking.of(case, entries)
    return [_check_one(case, seq, tok, ctx) for seq, tok in found]


def verify_tokens(
    case: Case,
    entries: list[CustodyEntry] | None = None,
    checks: list[TokenCheck] | None = None,
) -> list[Problem]:
    """For ``forensic verify``: one Problem per token that no longer verifies.

    Demo tokens and tokens of an unknown root verify against the root their chain names; they
    are not problems but not trusted time either (``TokenCheck.trusted``; verify warns).
    """
    problems = []
    for check in checks if checks is not None else token_status(case, entries):
        if not check.ok:
            kind, _, detail = (check.problem or "token_invalid").partition(": ")
            problems.append(
                Problem("timestamp", kind, str(check.token.get("tsr", f"seq {check.seq}")), detail)
            )
    return problems


def describe(result: TimestampResult, lang: str) -> list[str]:
    """Human lines about a result (for ``timestamp`` and the stamping after capture/export)."""
    from forensic._internal.clock import local_and_utc

    def shown(gen_time: str) -> str:
        try:
            return local_and_utc(gen_time, result.zone).text()
        except ValueError:
            return gen_time

    lines = [
        message("timestamp.token", lang, tsa=t.tsa, gen_time=shown(t.gen_time), seq=t.head_seq)
        + (" " + message("timestamp.demo_note", lang) if t.demo else "")
        for t in result.tokens
    ]
    for q in result.queued:
        reason = q.error_obj.for_reader(lang) if q.error_obj is not None else q.message
        lines.append(message("timestamp.queued", lang, tsa=q.tsa, reason=reason))
    return lines


def _gen_moment(token: dict[str, Any]) -> datetime:
    try:
        moment = datetime.fromisoformat(str(token.get("gen_time", "")).replace("Z", "+00:00"))
    except ValueError:
        return datetime.max.replace(tzinfo=UTC)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def first_covering_token(
    case: Case, entries: list[CustodyEntry], seq: int
) -> dict[str, Any] | None:
    """The earliest verified token over a log head at or after entry ``seq``.

    A token over head H proves every entry up to H existed at its genTime, so the first such
    token is the first trusted time for whatever entry ``seq`` records (an acquisition, say).
    Tokens that verify to one of this machine's trust anchors win over demo or untrusted ones;
    times are the verified genTimes, compared as instants; a token that fails is never used.
    Tokens are verified one at a time, earliest first, until a trusted one is found.
    """
    covering = [
        (entry_seq, tok)
        for entry_seq, tok in _stored_tokens(case, entries)
        if isinstance(tok.get("head_seq", -1), int) and int(tok.get("head_seq", -1)) >= seq
    ]
    if not covering:
        return None
    covering.sort(key=lambda c: (bool(c[1].get("demo")), _gen_moment(c[1]), c[0]))
    ctx = _Checking.of(case, entries)
    fallback: TokenCheck | None = None
    for entry_seq, tok in covering:
        if fallback is not None and tok.get("demo"):
            break  # a demo token is never trusted: the earliest untrusted one is known
        check = _check_one(case, entry_seq, tok, ctx)
        if check.ok and check.trusted:
            return _covering_doc(check)
        if check.ok and fallback is None:
            fallback = check
    return _covering_doc(fallback) if fallback is not None else None


def _covering_doc(check: TokenCheck) -> dict[str, Any]:
    token = check.token
    return {
        "gen_time": check.gen_time,
        "tsa": token.get("tsa"),
        "serial": token.get("serial"),
        "head_seq": token.get("head_seq"),
        "trusted": check.trusted,
        "demo": check.demo,
        "root_sha256": check.root_sha256,
        "entry_seq": check.seq,
    }
