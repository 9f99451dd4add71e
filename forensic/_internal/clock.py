"""The one place the tool reads the wall clock, so tests can freeze it, and the one way a time
is shown to a person: in the case's zone with UTC beside it."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from forensic.errors import UsageError

DEFAULT_TIMEZONE = "Asia/Seoul"


def now() -> datetime:
    return datetime.now(UTC)


def utc_timestamp(moment: datetime | None = None) -> str:
    """UTC with microseconds, e.g. ``2026-11-24T10:11:12.123456Z``."""
    moment = (moment or now()).astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


_YEAR_10000 = 253_402_300_800  # seconds since the epoch at 10000-01-01T00:00:00Z


def ns_to_utc(ns: int) -> str:
    """A file time (nanoseconds since the epoch) as UTC with microseconds; capture writes three
    per file, so the years 1970-9999 are formatted from ``time.gmtime`` (the same text as the
    ``datetime`` path, which every other value takes; tests/test_canonical.py)."""
    seconds, rest = divmod(ns, 1_000_000_000)
    if 0 <= seconds < _YEAR_10000:
        t = time.gmtime(seconds)
        return (
            f"{t.tm_year:04d}-{t.tm_mon:02d}-{t.tm_mday:02d}T"
            f"{t.tm_hour:02d}:{t.tm_min:02d}:{t.tm_sec:02d}.{rest // 1000:06d}Z"
        )
    return _ns_to_utc_datetime(seconds, rest)


def _ns_to_utc_datetime(seconds: int, rest: int) -> str:
    moment = datetime.fromtimestamp(seconds, UTC).replace(microsecond=rest // 1000)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def check_zone(name: str) -> ZoneInfo:
    """The IANA zone ``name``; a name the system does not know is the user's mistake."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise UsageError("unknown_timezone", zone=name) from exc


def parse_utc(text: str) -> datetime:
    """A stored UTC timestamp (``…Z`` or with an offset) as an aware datetime."""
    moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


@dataclass(frozen=True)
class LocalTime:
    """One instant as a person reads it: local time in the case's zone, and UTC."""

    utc: datetime
    local: datetime
    zone: str

    @property
    def local_iso(self) -> str:
        """ISO 8601 with the zone's offset, e.g. ``2026-12-03T22:49:27+09:00``."""
        return self.local.isoformat(timespec="seconds")

    @property
    def utc_iso(self) -> str:
        return self.utc.strftime("%Y-%m-%dT%H:%M:%SZ")

    def text(self) -> str:
        """``2026-12-03 22:49:27 KST (13:49:27 UTC)``; the UTC date is added when it differs."""
        abbrev = self.local.tzname() or self.zone
        local = self.local.strftime("%Y-%m-%d %H:%M:%S")
        same_day = self.local.date() == self.utc.date()
        utc = self.utc.strftime("%H:%M:%S" if same_day else "%Y-%m-%d %H:%M:%S")
        return f"{local} {abbrev} ({utc} UTC)"

    def as_dict(self) -> dict[str, str]:
        return {"local": self.local_iso, "utc": self.utc_iso, "zone": self.zone}


def local_and_utc(moment: datetime | str, zone: str = DEFAULT_TIMEZONE) -> LocalTime:
    """``moment`` (an aware datetime or a stored UTC timestamp) in ``zone`` and in UTC."""
    instant = parse_utc(moment) if isinstance(moment, str) else moment.astimezone(UTC)
    return LocalTime(utc=instant, local=instant.astimezone(check_zone(zone)), zone=zone)
