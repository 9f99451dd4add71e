"""Watching where a page spread until it is gone: ``forensic watch``.

Each check loads the page once with the web-capture engine (:mod:`forensic.capture.web`:
Chromium, TLS details, redirects) and records one signed ``watch`` entry saying what was seen:

* ``available``: the page loads and shows what it showed at the last check (or is seen for the
  first time);
* ``changed``: the page loads and its visible text differs from the last check's;
* ``gone``: HTTP 404, 410 or 451, the host name does not exist (NXDOMAIN), or a platform's own
  "removed / unavailable" page (:func:`removed_reason`; Telegram ``t.me`` and ``t.me/s/``);
* ``unreachable``: nothing could be seen (connection refused, timeout, a resolver that does not
  answer, a server error, 401/403): never taken for ``gone``.

Whenever what the page shows differs from the last check that saw it (first sight, a change, the
removal notice, the page back again), the same visit is stored as a full ``web`` capture group
and the entry names it. Watching only loads the URLs it was given, as a visitor: it never logs
in, posts, joins or follows anything, and never sends anything anywhere.

The plan of a long-running watch (its URLs, interval and end) is itself a ``watch`` entry; the
schedule is derived from the log, so a restarted watch resumes where the last one stopped.
"""

from __future__ import annotations

import hashlib
import re
import socket
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from forensic._internal.clock import parse_utc, utc_timestamp
from forensic.capture.web import PageVisit, WebOptions, check_url, store_visit, visit_page
from forensic.capture.web_errors import WebError
from forensic.case.case import Case
from forensic.case.records import host_name, tool_record
from forensic.custody.keys import ExaminerKey
from forensic.custody.log import CustodyEntry, PendingEntry
from forensic.progress import SILENT, ProgressReporter

ACTION = "watch"
AVAILABLE, CHANGED, GONE, UNREACHABLE = "available", "changed", "gone", "unreachable"
STATES = (AVAILABLE, CHANGED, GONE, UNREACHABLE)
GONE_STATUSES = frozenset({404, 410, 451})
TELEGRAM_HOSTS = frozenset({"t.me", "www.t.me", "telegram.me", "www.telegram.me", "telegram.dog"})

# Telegram's own wording (t.me pages in English, as a browser without a Telegram session gets
# them): a channel or group blocked by Telegram, and a post that no longer exists. Apostrophes
# are compared after folding ’ to '. See docs/decisions/0024-watch-availability-and-takedown.md.
_TELEGRAM_BLOCKED = re.compile(
    r"\bthis (channel|group|bot|user|account) (can't|cannot|couldn't) be displayed\b"
    r"|\bthis (channel|group|bot|user|account) is blocked because\b"
    r"|\bis (temporarily )?inaccessible on your device\b",
    re.IGNORECASE,
)
_TELEGRAM_POST_MISSING = re.compile(r"\bpost not found\b|\bthis post is unavailable\b", re.I)
_TELEGRAM_CONTACT = re.compile(r"you can contact @[\w]+ right away", re.IGNORECASE)


def removed_reason(final_url: str, html: str, text: str) -> str | None:
    """The platform's "removed / unavailable" page, recognised by its own wording: the reason
    (``telegram_blocked``, ``telegram_post_missing``, ``telegram_no_such_name``), else None.

    Telegram answers a name that no longer exists (a deleted channel, or a ``t.me/s/`` page of
    one, which redirects to ``t.me/<name>``) with a bare contact page: the "you can contact
    @name right away" line and no ``tgme_page_title`` (a live channel or person has one)."""
    host = (urlsplit(final_url).hostname or "").lower()
    if host not in TELEGRAM_HOSTS:
        return None
    folded = text.replace("\u2019", "'")
    if _TELEGRAM_BLOCKED.search(folded):
        return "telegram_blocked"
    if _TELEGRAM_POST_MISSING.search(folded):
        return "telegram_post_missing"
    if _TELEGRAM_CONTACT.search(folded) and "tgme_page_title" not in html:
        return "telegram_no_such_name"
    return None


def name_does_not_exist(host: str, resolve: Callable[..., Any] = socket.getaddrinfo) -> bool:
    """After the browser could not resolve ``host``: whether the name does not exist (NXDOMAIN,
    ``EAI_NONAME``), as opposed to a resolver that does not answer (network down: not gone)."""
    try:
        resolve(host, None)
    except socket.gaierror as exc:
        return exc.errno == socket.EAI_NONAME
    except OSError:
        return False
    return False


def content_sha256(text: str) -> str:
    """SHA-256 of what a person reads on the page, whitespace folded (a page that only
    re-lays itself out, or reorders its markup, is not "changed")."""
    return hashlib.sha256(" ".join(text.split()).encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Plan:
    """What a long-running watch was asked to do (recorded, so a restart resumes it)."""

    plan_id: str
    urls: tuple[str, ...]
    every_seconds: int
    until: str | None
    """``gone`` (each URL until it is gone), a UTC time, or None (until stopped)."""

    def details(self) -> dict[str, Any]:
        return {
            "kind": "plan",
            "plan": self.plan_id,
            "urls": list(self.urls),
            "every_seconds": self.every_seconds,
            "until": self.until,
        }

    @classmethod
    def of(cls, details: dict[str, Any]) -> Plan:
        return cls(
            str(details.get("plan")),
            tuple(str(u) for u in details.get("urls") or []),
            int(details.get("every_seconds") or 0),
            None if details.get("until") is None else str(details["until"]),
        )

    @classmethod
    def new(cls, urls: Sequence[str], every_seconds: int, until: str | None) -> Plan:
        return cls(f"watch-{uuid.uuid4().hex[:16]}", tuple(urls), every_seconds, until)

    def same_request(self, other: Plan) -> bool:
        return (self.urls, self.every_seconds, self.until) == (
            other.urls,
            other.every_seconds,
            other.until,
        )

    def until_moment(self) -> datetime | None:
        if self.until is None or self.until == "gone":
            return None
        return parse_utc(self.until)


@dataclass(frozen=True)
class Check:
    """One recorded check of one URL (a ``watch`` entry of kind ``check``)."""

    seq: int
    url: str
    state: str
    reason: str | None
    started: str
    finished: str
    http_status: int | None
    final_url: str | None
    content: str | None
    group: str | None
    items: dict[str, str] = field(default_factory=dict)
    plan: str | None = None

    @classmethod
    def of(cls, entry: CustodyEntry) -> Check:
        d = entry.details
        capture = d.get("capture") if isinstance(d.get("capture"), dict) else None
        status = d.get("http_status")
        return cls(
            seq=entry.seq,
            url=str(d.get("url")),
            state=str(d.get("state")),
            reason=None if d.get("reason") is None else str(d["reason"]),
            started=str(d.get("checked_started") or entry.time),
            finished=str(d.get("checked_finished") or entry.time),
            http_status=status if isinstance(status, int) else None,
            final_url=None if d.get("final_url") is None else str(d["final_url"]),
            content=None if d.get("content_sha256") is None else str(d["content_sha256"]),
            group=str(capture["group"]) if capture else None,
            items={str(k): str(v) for k, v in (capture or {}).get("items", {}).items()},
            plan=None if d.get("plan") is None else str(d["plan"]),
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "url": self.url,
            "state": self.state,
            "reason": self.reason,
            "checked_started": self.started,
            "checked_finished": self.finished,
            "http_status": self.http_status,
            "final_url": self.final_url,
            "content_sha256": self.content,
            "capture_group": self.group,
            "items": dict(self.items),
            "plan": self.plan,
        }


def checks_by_url(entries: Sequence[CustodyEntry]) -> dict[str, list[Check]]:
    """Every recorded check, per URL, in log order (URLs in the order first watched)."""
    out: dict[str, list[Check]] = {}
    for entry in entries:
        if entry.action == ACTION and entry.details.get("kind") == "check":
            check = Check.of(entry)
            out.setdefault(check.url, []).append(check)
    return out


def open_plan(entries: Sequence[CustodyEntry]) -> Plan | None:
    """The last recorded plan that no ``ended`` entry closed (the one a restart resumes)."""
    plans: dict[str, Plan] = {}
    for entry in entries:
        if entry.action != ACTION:
            continue
        kind = entry.details.get("kind")
        if kind == "plan":
            plan = Plan.of(entry.details)
            plans.pop(plan.plan_id, None)
            plans[plan.plan_id] = plan
        elif kind == "ended":
            plans.pop(str(entry.details.get("plan")), None)
    return list(plans.values())[-1] if plans else None


@dataclass(frozen=True)
class Seen:
    """What one check found, before it is recorded."""

    url: str
    state: str
    reason: str | None
    started: str
    finished: str
    visit: PageVisit | None = None
    content: str | None = None


def _page_state(visit: PageVisit, previous: Sequence[Check]) -> tuple[str, str | None]:
    status = visit.status
    if status in GONE_STATUSES:
        return GONE, f"http_{status}"
    removed = removed_reason(visit.final_url, visit.html, visit.text)
    if removed is not None:
        return GONE, removed
    if status >= 400:
        return UNREACHABLE, f"http_{status}"
    seen = [c for c in previous if c.content is not None]
    if not seen or seen[-1].content == content_sha256(visit.text):
        return AVAILABLE, None
    return CHANGED, None


def look(url: str, previous: Sequence[Check], options: WebOptions) -> Seen:
    """Load ``url`` once and say what it is now (nothing written; no case lock held)."""
    _scheme, host, _port = check_url(url)
    started = utc_timestamp()
    try:
        visit = visit_page(url, options)
    except WebError as exc:
        if exc.key in ("no_browser", "no_playwright", "browser_failed", "render_failed"):
            raise  # the tool's problem, not the page's: nothing is recorded
        if exc.key == "unresolved" and name_does_not_exist(host):
            return Seen(url, GONE, "nxdomain", started, utc_timestamp())
        why = str(exc.params.get("reason") or exc.key)
        return Seen(url, UNREACHABLE, why, started, utc_timestamp())
    state, reason = _page_state(visit, previous)
    return Seen(url, state, reason, started, utc_timestamp(), visit, content_sha256(visit.text))


def record_check(
    case: Case,
    key: ExaminerKey,
    seen: Seen,
    previous: Sequence[Check],
    plan: str | None,
    options: WebOptions,
    progress: ProgressReporter = SILENT,
) -> Check:
    """Record one check as a signed ``watch`` entry; a page that shows something other than at
    the last check that saw one is first stored as a full ``web`` capture (one case lock)."""
    details: dict[str, Any] = {
        "kind": "check",
        "url": seen.url,
        "state": seen.state,
        "reason": seen.reason,
        "checked_started": seen.started,
        "checked_finished": seen.finished,
        "plan": plan,
        "examiner": case.examiner_of(key),
        "host": host_name(),
        "tool": tool_record(),
    }
    with case.writing(key):
        if seen.visit is not None:
            visit = seen.visit
            details.update(
                {
                    "http_status": visit.status,
                    "final_url": visit.final_url,
                    "title": str(visit.seen.get("title") or ""),
                    "server": visit.seen.get("server"),
                    "content_sha256": seen.content,
                    "browser_version": visit.seen.get("browser_version"),
                }
            )
            last = [c.content for c in previous if c.content is not None]
            if not last or last[-1] != seen.content:
                stored = store_visit(case, key, visit, options, progress)
                items = {
                    a.path.decode().split(":", 1)[1]: str(a.item_id)
                    for a in stored.capture.acquired
                }
                details["capture"] = {"group": str(stored.capture.group_id), "items": items}
        with case.step(key, ACTION) as step:
            details["run"] = step.run
            [entry] = step.record([PendingEntry(ACTION, f"url:{seen.url}", details)])
    return Check.of(entry)


def record_plan(case: Case, key: ExaminerKey, plan: Plan, kind: str = "plan", **extra: Any) -> None:
    """The plan of a long-running watch (``plan``), or its end (``ended``, with a reason)."""
    details: dict[str, Any] = (
        plan.details() if kind == "plan" else {"kind": kind, "plan": plan.plan_id}
    )
    details.update(extra)
    details.update({"examiner": case.examiner_of(key), "host": host_name(), "tool": tool_record()})
    with case.step(key, ACTION) as step:
        details["run"] = step.run
        step.record([PendingEntry(ACTION, f"watch:{plan.plan_id}", details)])


def next_due(plan: Plan, checks: Sequence[Check], now: datetime) -> datetime:
    """When ``plan`` next checks a URL with these recorded checks: now if never checked."""
    if not checks:
        return now
    return parse_utc(checks[-1].started) + timedelta(seconds=plan.every_seconds)


# -- timelines ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Span:
    """One stretch of a URL's timeline: a state from its first check to the last check in it."""

    state: str
    first: Check
    last: Check
    covered_by: dict[str, Any] | None
    """The first time-stamp token over the log head at or after the first check's entry."""
    count: int = 1
    """Checks in this stretch."""


@dataclass(frozen=True)
class UrlTimeline:
    url: str
    spans: tuple[Span, ...]
    checks: int

    @property
    def first_seen(self) -> Check | None:
        seen = [s.first for s in self.spans if s.state in ("available", "changed")]
        return seen[0] if seen else None

    @property
    def last_seen(self) -> Check | None:
        seen = [s.last for s in self.spans if s.state in ("available", "changed")]
        return seen[-1] if seen else None

    @property
    def gone_at(self) -> Check | None:
        """The check that first found it gone, when it is gone now."""
        if self.spans and self.spans[-1].state == "gone":
            return self.spans[-1].first
        return None

    @property
    def current(self) -> str | None:
        return self.spans[-1].state if self.spans else None


def timelines(
    entries: Sequence[CustodyEntry],
    covering: Callable[[int], dict[str, Any] | None],
) -> list[UrlTimeline]:
    """Each watched URL's checks grouped into spans; a ``changed`` check opens a span of its
    own, so every change shows; ``covering(seq)`` gives the trusted time over an entry."""
    out: list[UrlTimeline] = []
    for url, checks in checks_by_url(entries).items():
        spans: list[Span] = []
        for check in checks:
            if spans and spans[-1].state == check.state and check.state != CHANGED:
                last = spans[-1]
                spans[-1] = Span(last.state, last.first, check, last.covered_by, last.count + 1)
            else:
                spans.append(Span(check.state, check, check, covering(check.seq)))
        out.append(UrlTimeline(url, tuple(spans), len(checks)))
    return out


EVERY = re.compile(r"^\s*(\d+)\s*([smhd])\s*$", re.IGNORECASE)
UNIT_SECONDS = (("s", 1), ("m", 60), ("h", 3600), ("d", 86400))


def parse_every(text: str) -> int | None:
    """``6h``, ``30m``, ``1d``, ``90s`` in seconds; None when it is not one of those."""
    match = EVERY.match(text)
    if match is None:
        return None
    return int(match.group(1)) * dict(UNIT_SECONDS)[match.group(2).lower()]
