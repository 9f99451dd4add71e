"""Stamp the custody log's head with RFC 3161 TSAs; queue what fails; re-verify stored tokens.

Only the SHA-256 hash of the last committed log line leaves the machine (never an evidence
hash): the head depends on the case's random salt, so the TSA learns nothing about the evidence.

Case layout: ``timestamps/<seq>-<tsa>.tsq|.tsr|.chain.pem`` for accepted tokens and
``timestamps/queue/<seq>-<tsa>.json`` for requests that failed. The log is the source of truth:
a ``timestamp-queued`` entry lists queued requests, a ``timestamp`` entry lists accepted tokens
(with ``queue_id`` when a queued request was sent later). Queue files are never deleted (the
log vouches for them); a request is pending while no ``timestamp`` entry names its id.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from forensic._internal.clock import utc_timestamp
from forensic._internal.fsio import atomic_write, fsync_dir
from forensic.case.case import Case, file_record, tool_record
from forensic.custody.keys import ExaminerKey
from forensic.custody.log import CustodyEntry, PendingEntry
from forensic.errors import ForensicError
from forensic.i18n import message
from forensic.problem import Problem
from forensic.timestamp.authority import (
    TimestampAuthority,
    load_certs,
    load_config,
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

    def as_dict(self) -> dict[str, Any]:
        return {
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


@dataclass
class TimestampResult:
    """What one run of stamping did: tokens accepted, requests queued (new or still pending)."""

    head_seq: int
    head_hash: str
    tokens: list[StampedToken] = field(default_factory=list)
    queued: list[QueuedRequest] = field(default_factory=list)
    entries: list[CustodyEntry] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "head_seq": self.head_seq,
            "head_hash": self.head_hash,
            "tokens": [t.as_dict() for t in self.tokens],
            "queued": [q.as_dict() for q in self.queued],
            "entries": [e.seq for e in self.entries],
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
    return [q for qid, q in queued.items() if qid not in done]


def _load_queued(case: Case, record: dict[str, Any]) -> tuple[TimestampAuthority, TimestampRequest]:
    doc = json.loads((case.root / str(record["path"])).read_text("utf-8"))
    tsa_doc = doc["tsa"]
    tsa = TimestampAuthority(
        name=str(tsa_doc["name"]),
        url=str(tsa_doc["url"]),
        roots=tuple(p.encode("ascii") for p in tsa_doc["roots_pem"]),
        demo=bool(tsa_doc.get("demo", False)),
    )
    request = TimestampRequest.load(
        int(doc["head_seq"]), str(doc["head_hash"]), base64.b64decode(doc["tsq"])
    )
    return tsa, request


def _free_stem(folder: Path, stem: str, suffixes: tuple[str, ...]) -> str:
    candidate, n = stem, 1
    while any((folder / f"{candidate}{s}").exists() for s in suffixes):
        n += 1
        candidate = f"{stem}-{n}"
    return candidate


# -- stamping -----------------------------------------------------------------------------
def _store_token(
    case: Case,
    tsa: TimestampAuthority,
    request: TimestampRequest,
    response: bytes,
    token: VerifiedToken,
    queue_id: str | None,
) -> tuple[StampedToken, list[Path]]:
    folder = case.root / TS_DIR
    folder.mkdir(parents=True, exist_ok=True)
    stem = _free_stem(folder, f"{request.head_seq}-{tsa.slug}", (".tsq", ".tsr", ".chain.pem"))
    paths = [folder / f"{stem}.tsq", folder / f"{stem}.tsr", folder / f"{stem}.chain.pem"]
    for path, data in zip(paths, (request.der, response, token.chain_pem()), strict=True):
        atomic_write(path, data, mode=0o444)
    fsync_dir(folder)
    rel = [p.relative_to(case.root).as_posix() for p in paths]
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
        queue_id=queue_id,
    )
    return stamped, paths


def _attempt(
    tsa: TimestampAuthority, request: TimestampRequest, timeout: float
) -> tuple[bytes, VerifiedToken]:
    response = send_request(tsa, request, timeout)
    return response, verify_response(response, request, tsa)


def _error_text(exc: ForensicError) -> str:
    return exc.diagnostics("en")


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
    (``timestamp-queued``); each accepted token is logged in one ``timestamp`` entry.
    """
    timeout = timeout if timeout is not None else load_config().timeout
    with case.writing(key):
        next_seq, head_hash = case.log.head()
        result = TimestampResult(head_seq=next_seq - 1, head_hash=head_hash)
        written: list[Path] = []
        queue_written: list[Path] = []
        failed_urls: set[str] = set()
        if send_queue:
            for record in pending_queue(case):
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
                    result.queued.append(
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
                stamped, paths = _store_token(
                    case, tsa, request, response, token, str(record["id"])
                )
                result.tokens.append(stamped)
                written.extend(paths)
        for tsa in tsas:
            if tsa.url in failed_urls:
                # its older request is still queued; once sent, the next run stamps the head
                continue
            request = TimestampRequest.new(result.head_seq, head_hash)
            try:
                response, token = _attempt(tsa, request, timeout)
            except TimestampError as exc:
                folder = case.root / QUEUE_DIR
                folder.mkdir(parents=True, exist_ok=True)
                stem = _free_stem(folder, f"{request.head_seq}-{tsa.slug}", (".json",))
                path = folder / f"{stem}.json"
                doc = _queue_doc(tsa, request, exc.key)
                atomic_write(path, json.dumps(doc, indent=2).encode("utf-8") + b"\n", mode=0o444)
                fsync_dir(folder)
                queue_written.append(path)
                rel = path.relative_to(case.root).as_posix()
                result.queued.append(
                    QueuedRequest(
                        stem,
                        tsa.name,
                        tsa.url,
                        request.head_seq,
                        head_hash,
                        exc.key,
                        _error_text(exc),
                        rel,
                        error_obj=exc,
                    )
                )
                continue
            stamped, paths = _store_token(case, tsa, request, response, token, None)
            result.tokens.append(stamped)
            written.extend(paths)
        pending: list[PendingEntry] = []
        subject = f"case:{case.info.case_id}"
        if result.tokens:
            pending.append(
                PendingEntry(
                    "timestamp",
                    subject,
                    {
                        "hash_algorithm": "sha256",
                        "imprint_of": "custody log head line",
                        "tokens": [t.as_dict() for t in result.tokens],
                        "tool": tool_record(),
                        "files": [file_record(case.root, p) for p in written],
                    },
                )
            )
        if result.queued:
            pending.append(
                PendingEntry(
                    "timestamp-queued",
                    subject,
                    {
                        "queued": [q.as_dict() for q in result.queued],
                        "tool": tool_record(),
                        "files": [file_record(case.root, p) for p in queue_written],
                    },
                )
            )
        if pending:
            result.entries = case.record(key, pending)
    return result


def stamp_after_write(case: Case, key: ExaminerKey) -> TimestampResult | None:
    """For capture: stamp the new head when ``[timestamp] auto = true`` in forensic.toml.

    Returns None when automatic stamping is off or no TSA is configured; TSA failures are
    queued, never raised.
    """
    config = load_config()
    if not config.auto or not config.tsas:
        return None
    return stamp_head(case, key, list(config.tsas), timeout=config.timeout)


# -- re-verification ------------------------------------------------------------------------
@dataclass(frozen=True)
class TokenCheck:
    seq: int
    token: dict[str, Any]
    ok: bool
    trusted: bool
    demo: bool
    problem: str | None = None


def _check_one(
    case: Case, seq: int, tok: dict[str, Any], line_hashes: dict[int, str]
) -> TokenCheck:
    demo = bool(tok.get("demo"))
    trusted = bool(tok.get("trusted")) and not demo

    def bad(kind: str, detail: str) -> TokenCheck:
        return TokenCheck(seq, tok, False, trusted, demo, f"{kind}: {detail}")

    head_seq = int(tok.get("head_seq", -1))
    head_hash = str(tok.get("head_hash", ""))
    if line_hashes.get(head_seq) != head_hash:
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
        verify_response(tsr, request, tsa, roots=roots)
    except ForensicError as exc:
        return bad(f"token_{exc.key}", exc.diagnostics("en"))
    return TokenCheck(seq, tok, True, trusted, demo)


def token_status(case: Case, entries: list[CustodyEntry] | None = None) -> list[TokenCheck]:
    """Re-verify every stored token against the recorded head hash and its recorded root."""
    entries = entries if entries is not None else case.entries()
    line_hashes = {e.seq: e.hash for e in entries}
    out: list[TokenCheck] = []
    for entry in entries:
        if entry.action != "timestamp":
            continue
        for tok in entry.details.get("tokens", []) or []:
            if isinstance(tok, dict):
                out.append(_check_one(case, entry.seq, tok, line_hashes))
    return out


def verify_tokens(case: Case, entries: list[CustodyEntry] | None = None) -> list[Problem]:
    """For ``forensic verify``: one Problem per token that no longer verifies.

    Demo tokens verify against their (untrusted) demo root; they are not reported as problems
    (``token_status`` tells which tokens are demo / untrusted).
    """
    problems = []
    for check in token_status(case, entries):
        if not check.ok:
            kind, _, detail = (check.problem or "token_invalid").partition(": ")
            problems.append(
                Problem("timestamp", kind, str(check.token.get("tsr", f"seq {check.seq}")), detail)
            )
    return problems


def describe(result: TimestampResult, lang: str) -> list[str]:
    """Human lines about a result (for the CLI and for the lead's capture output)."""
    lines = [
        message("timestamp.token", lang, tsa=t.tsa, gen_time=t.gen_time, seq=t.head_seq)
        + (" " + message("timestamp.demo_note", lang) if t.demo else "")
        for t in result.tokens
    ]
    for q in result.queued:
        reason = q.error_obj.diagnostics(lang) if q.error_obj is not None else q.message
        lines.append(message("timestamp.queued", lang, tsa=q.tsa, reason=reason))
    return lines


def _gen_moment(token: dict[str, Any]) -> datetime:
    try:
        moment = datetime.fromisoformat(str(token.get("gen_time", "")).replace("Z", "+00:00"))
    except ValueError:
        return datetime.max.replace(tzinfo=UTC)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def first_covering_token(entries: list[CustodyEntry], seq: int) -> dict[str, Any] | None:
    """The earliest stored token over a log head at or after entry ``seq``.

    A token over head H proves every entry up to H existed at its genTime, so the first such
    token is the first trusted time for whatever entry ``seq`` records (an acquisition, say).
    Tokens from trusted TSAs win over demo or untrusted ones; times are compared as instants.
    """
    covering = [
        (entry.seq, t)
        for entry in entries
        if entry.action == "timestamp"
        for t in entry.details.get("tokens", []) or []
        if isinstance(t, dict) and int(t.get("head_seq", -1)) >= seq
    ]
    if not covering:
        return None
    entry_seq, token = min(
        covering, key=lambda c: (not bool(c[1].get("trusted")), _gen_moment(c[1]), c[0])
    )
    return {
        "gen_time": token.get("gen_time"),
        "tsa": token.get("tsa"),
        "serial": token.get("serial"),
        "head_seq": token.get("head_seq"),
        "trusted": bool(token.get("trusted")),
        "demo": bool(token.get("demo")),
        "entry_seq": entry_seq,
    }
