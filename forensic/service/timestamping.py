"""``timestamp``: trusted time (RFC 3161) over the custody log head, and the queue of requests.

Which TSAs are asked is decided here: the caller's own authorities, else ``--tsa`` URLs (with
``--tsa-root`` roots, or a configured TSA's), else the ``forensic.toml`` of the session's home.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from forensic.service.opening import open_case
from forensic.session import Session

if TYPE_CHECKING:
    from forensic.timestamp import TimestampAuthority, TimestampConfig, TimestampResult


@dataclass(frozen=True)
class TimestampOutcome:
    result: TimestampResult
    pending: int
    """Requests still queued after this run (a TSA that failed keeps its request)."""
    zone: str = "Asia/Seoul"
    """The case's zone (times are shown in it, UTC beside)."""

    def as_dict(self) -> dict[str, Any]:
        return {"ok": True, **self.result.as_dict(), "pending": self.pending}


def choose_tsas(
    config: TimestampConfig, urls: Sequence[str] = (), roots: Sequence[Path] = ()
) -> list[TimestampAuthority]:
    """The ``urls`` (trusting ``roots``, else the configured TSA of that URL), else ``config``'s."""
    from forensic.timestamp import TimestampUsageError, tsas_from_options

    if not urls:
        return list(config.tsas)
    if roots:
        return tsas_from_options(list(urls), list(roots))
    known = {t.url: t for t in config.tsas}
    for url in urls:
        if url not in known:
            raise TimestampUsageError("root_needed", url=url)
    return [known[url] for url in urls]


def timestamp_case(
    session: Session,
    case_dir: Path | None = None,
    *,
    urls: Sequence[str] = (),
    roots: Sequence[Path] = (),
    timeout: float | None = None,
    tsas: Sequence[TimestampAuthority] | None = None,
) -> TimestampOutcome:
    """Stamp the log head with every chosen TSA and send the queued requests.

    Only the SHA-256 of the log's last line leaves the machine. A TSA that fails is queued and
    logged, never raised; with no TSA and nothing queued the request is refused before the
    passphrase is asked.
    """
    from forensic.timestamp import TimestampUsageError, load_config, pending_queue, stamp_head

    case = open_case(session, case_dir)
    config = load_config(session.home)
    chosen = list(tsas) if tsas is not None else choose_tsas(config, urls, roots)
    if not chosen and not pending_queue(case):
        raise TimestampUsageError("no_tsa")
    key = session.unlock()
    case.check_key(key)
    result = stamp_head(
        case, key, chosen, timeout=timeout if timeout is not None else config.timeout
    )
    return TimestampOutcome(result, len(pending_queue(case)), case.info.timezone)
