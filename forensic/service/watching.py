"""``watch``: whether the pages where the evidence spread are still up, until they are gone.

``watch URL... --once`` checks each URL once (for a system timer); without ``--once`` the
watch is a plan recorded in the case (URLs, interval, end) and checks each URL when it is due
until the end. The schedule is read from the log, never held only in memory: a watch that was
stopped or killed resumes when started again (``watch`` with no URL resumes the open plan).
Fetches to one host are spaced by at least ``host_interval`` seconds, across runs as well.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from forensic._internal.clock import local_and_utc, now, parse_utc
from forensic.errors import ForensicError, UsageError
from forensic.progress import SILENT, ProgressReporter
from forensic.service.opening import open_case, open_for_writing
from forensic.session import Session

if TYPE_CHECKING:
    from forensic.capture.watch import Check, Plan, Span, UrlTimeline
    from forensic.case import Case
    from forensic.custody.keys import ExaminerKey
    from forensic.custody.log import CustodyEntry
    from forensic.timestamp import TimestampResult

MIN_EVERY_SECONDS = 600
"""The shortest interval a long-running watch accepts (10 minutes): a watch is a visitor."""
HOST_INTERVAL = 10.0
"""Seconds between two fetches to the same host (by this tool, across runs)."""


class WatchUsageError(UsageError):
    """A watch asked for something that cannot be done as asked."""

    def diagnostics(self, lang: str = "en") -> str:
        from forensic.i18n import message

        return message(f"watch_error.{self.key}", lang, **self.params)


@dataclass(frozen=True)
class WatchSettings:
    every_seconds: int = 6 * 3600
    until: str | None = None
    """``gone``, a UTC time (ISO 8601), or None (until stopped)."""
    once: bool = False
    timeout: float = 30.0
    host_interval: float = HOST_INTERVAL
    settle: float = 1.0
    resolver_rules: str | None = None
    """Chromium ``--host-resolver-rules`` (tests map a platform's host name to 127.0.0.1)."""


Sleep = Callable[[float], None]


@dataclass(frozen=True)
class WatchRun:
    """The checks one run of ``watch`` made, in order, and the plan it followed."""

    checks: tuple[Check, ...]
    plan: Plan | None
    resumed: bool
    ended: str | None
    """Why the plan ended in this run (``gone``, ``until``), None when it goes on or --once."""
    zone: str
    stamped: tuple[TimestampResult, ...] = ()
    timestamp_error: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": True,
            "plan": _plan_dict(self.plan),
            "resumed": self.resumed,
            "ended": self.ended,
            "checks": [_check_dict(c, self.zone) for c in self.checks],
            "timestamp": [s.as_dict() for s in self.stamped],
            "timestamp_error": self.timestamp_error,
        }


def _plan_dict(plan: Plan | None) -> dict[str, Any] | None:
    if plan is None:
        return None
    return {
        "id": plan.plan_id,
        "urls": list(plan.urls),
        "every_seconds": plan.every_seconds,
        "until": plan.until,
    }


def _check_dict(check: Check, zone: str) -> dict[str, Any]:
    return {**check.as_dict(), "time": local_and_utc(check.started, zone).as_dict()}


def parse_until(text: str | None, zone: str) -> str | None:
    """``gone``, or a date/time (``2026-12-31``, ``2026-12-31T18:00``; the case's zone when it
    names none) as a UTC timestamp."""
    from zoneinfo import ZoneInfo

    from forensic._internal.clock import utc_timestamp

    if text is None or text.strip().lower() == "gone":
        return None if text is None else "gone"
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise WatchUsageError("bad_until", value=text) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo(zone))
    return utc_timestamp(moment)


def _choose_plan(
    case: Case, key: ExaminerKey, urls: Sequence[str], settings: WatchSettings
) -> tuple[Plan | None, bool]:
    """The plan this run follows (a new one recorded, or the open one resumed)."""
    from forensic.capture.watch import Plan, open_plan, record_plan

    current = open_plan(case.entries())
    if not urls:
        if current is None:
            raise WatchUsageError("nothing_to_resume")
        return current, True
    if settings.once:
        return None, False
    wanted = Plan.new(urls, settings.every_seconds, settings.until)
    if current is not None and current.same_request(wanted):
        return current, True
    with case.writing(key):
        if current is not None:
            record_plan(case, key, current, "ended", reason="replaced", by=wanted.plan_id)
        record_plan(case, key, wanted)
    return wanted, False


def watch(
    session: Session,
    urls: Sequence[str],
    settings: WatchSettings | None = None,
    *,
    case_dir: Path | None = None,
    sleep: Sleep = time.sleep,
    progress: ProgressReporter = SILENT,
    on_check: Callable[[Check], None] | None = None,
) -> WatchRun:
    """Check ``urls`` once (``once``) or follow the plan until its end; see the module doc."""
    from forensic.capture.web import check_url

    settings = settings or WatchSettings()
    urls = list(dict.fromkeys(urls))  # each URL once, in the order given
    for url in urls:
        check_url(url)  # a malformed address is refused before anything is fetched
        parts = urlsplit(url)
        if parts.username is not None or parts.password is not None:
            raise WatchUsageError("credentials", url=url)  # a watch never logs in
    if not settings.once and settings.every_seconds < MIN_EVERY_SECONDS:
        raise WatchUsageError("every_too_short", seconds=settings.every_seconds)
    case, key = open_for_writing(session, case_dir)
    plan, resumed = _choose_plan(case, key, urls, settings)
    runner = _Runner(case, key, settings, sleep, progress, on_check)
    if plan is None or settings.once:
        for url in urls or (plan.urls if plan else ()):
            runner.check(url, plan.plan_id if plan else None)
        runner.stamp()
        return runner.result(plan, resumed, None)
    ended = runner.follow(plan)
    return runner.result(plan, resumed, ended)


class _Runner:
    """One run of ``watch``: the checks and time-stamps it made so far (its result)."""

    def __init__(
        self,
        case: Case,
        key: ExaminerKey,
        settings: WatchSettings,
        sleep: Sleep,
        progress: ProgressReporter,
        on_check: Callable[[Check], None] | None,
    ) -> None:
        self.case, self.key, self.settings = case, key, settings
        self.sleep, self.progress, self.on_check = sleep, progress, on_check
        self.checks: list[Check] = []
        self.stamped: list[TimestampResult] = []
        self.stamp_error: str | None = None

    def options(self) -> Any:
        from forensic.capture.web import WebOptions

        return WebOptions(
            timeout=self.settings.timeout,
            settle=self.settings.settle,
            resolver_rules=self.settings.resolver_rules,
        )

    def _wait_for_host(self, url: str) -> None:
        from forensic.capture.watch import checks_by_url

        host = (urlsplit(url).hostname or "").lower()
        last = [
            parse_utc(c.finished)
            for checks in checks_by_url(self.case.entries()).values()
            for c in checks
            if (urlsplit(c.url).hostname or "").lower() == host
        ]
        if last:
            left = (
                max(last) + timedelta(seconds=self.settings.host_interval) - now()
            ).total_seconds()
            if left > 0:
                self.sleep(left)

    def check(self, url: str, plan: str | None) -> Check:
        from forensic.capture.watch import checks_by_url, look, record_check

        self._wait_for_host(url)
        previous = checks_by_url(self.case.entries()).get(url, [])
        seen = look(url, previous, self.options())
        previous = checks_by_url(self.case.entries()).get(url, [])  # another run may have
        check = record_check(self.case, self.key, seen, previous, plan, self.options())
        self.checks.append(check)
        if self.on_check is not None:
            self.on_check(check)
        return check

    def stamp(self) -> None:
        """Trusted time over the new head, as after every other step (failures queued)."""
        from forensic.timestamp import stamp_after_write

        try:
            stamped = stamp_after_write(self.case, self.key)
        except ForensicError as exc:
            self.stamp_error = exc.diagnostics(self.case.session.lang)
            return
        if stamped is not None:
            self.stamped.append(stamped)

    def follow(self, plan: Plan) -> str | None:
        """Check each URL of ``plan`` when due until the plan ends; the end is recorded."""
        from forensic.capture.watch import GONE, checks_by_url, next_due

        until = plan.until_moment()
        while True:
            moment = now()
            by_url = checks_by_url(self.case.entries())
            if until is not None and moment >= until:
                return self._end(plan, "until")
            open_urls = [
                u for u in plan.urls
                if not (plan.until == "gone" and by_url.get(u) and by_url[u][-1].state == GONE)
            ]  # fmt: skip
            if not open_urls:
                return self._end(plan, "gone")
            due = [u for u in open_urls if next_due(plan, by_url.get(u, []), moment) <= moment]
            for url in due:
                self.check(url, plan.plan_id)
            if due:
                self.stamp()
                continue
            wake = min(next_due(plan, by_url.get(u, []), moment) for u in open_urls)
            if until is not None:
                wake = min(wake, until)
            self.sleep(max(0.0, (wake - moment).total_seconds()))

    def _end(self, plan: Plan, reason: str) -> str:
        from forensic.capture.watch import record_plan

        record_plan(self.case, self.key, plan, "ended", reason=reason)
        self.stamp()
        return reason

    def result(self, plan: Plan | None, resumed: bool, ended: str | None) -> WatchRun:
        return WatchRun(
            tuple(self.checks),
            plan,
            resumed,
            ended,
            self.case.info.timezone,
            tuple(self.stamped),
            self.stamp_error,
        )


# -- status ---------------------------------------------------------------------------------
def span_dict(span: Span, zone: str) -> dict[str, Any]:
    return {
        "state": span.state,
        "reason": span.first.reason,
        "from": local_and_utc(span.first.started, zone).as_dict(),
        "to": local_and_utc(span.last.started, zone).as_dict(),
        "first_seq": span.first.seq,
        "last_seq": span.last.seq,
        "capture_group": span.first.group,
        "trusted_time": span.covered_by,
    }


def _when(check: Check | None, zone: str) -> dict[str, str] | None:
    return None if check is None else local_and_utc(check.started, zone).as_dict()


@dataclass(frozen=True)
class WatchStatus:
    urls: tuple[UrlTimeline, ...]
    plan: Plan | None
    zone: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": True,
            "plan": _plan_dict(self.plan),
            "urls": [
                {
                    "url": t.url,
                    "state": t.current,
                    "checks": t.checks,
                    "first_seen": _when(t.first_seen, self.zone),
                    "last_seen": _when(t.last_seen, self.zone),
                    "gone_at": _when(t.gone_at, self.zone),
                    "timeline": [span_dict(s, self.zone) for s in t.spans],
                }
                for t in self.urls
            ],
        }


def token_cover(case: Case, entries: list[CustodyEntry]) -> Callable[[int], dict[str, Any] | None]:
    """The first time-stamp token covering an entry, each token verified at most once."""
    from forensic.timestamp import first_covering_token

    found: dict[int, dict[str, Any] | None] = {}

    def cover(seq: int) -> dict[str, Any] | None:
        if seq not in found:
            found[seq] = first_covering_token(case, entries, seq)
        return found[seq]

    return cover


def watch_status(session: Session, case_dir: Path | None = None) -> WatchStatus:
    """Every watched URL's availability timeline (read only: no key needed)."""
    from forensic.capture.watch import open_plan, timelines

    case = open_case(session, case_dir)
    entries = case.entries()
    return WatchStatus(
        tuple(timelines(entries, token_cover(case, entries))),
        open_plan(entries),
        case.info.timezone,
    )
