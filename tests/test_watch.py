"""``forensic watch``: a page on 127.0.0.1 that is up, changes, is removed (404) and whose
server then goes away; a Telegram "can't be displayed" page; a restarted watch resumes."""

from __future__ import annotations

import shutil
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from forensic.service.watching import WatchSettings, watch, watch_status
from tests.casetools import log_entries
from tests.conftest import examiner_session
from tests.watchsite import WatchSite, watch_site

pytestmark = pytest.mark.skipif(
    shutil.which("chromium") is None, reason="Debian package 'chromium' is not installed"
)
FAST = WatchSettings(once=True, timeout=10.0, host_interval=0.0, settle=0.0)


@pytest.fixture
def site() -> Iterator[WatchSite]:
    with watch_site() as s:
        yield s


def _once(case_dir: Path, *urls: str, settings: WatchSettings = FAST):  # type: ignore[no-untyped-def]
    return watch(examiner_session(), list(urls), settings, case_dir=case_dir)


def test_available_changed_gone_then_unreachable_is_not_gone(
    site: WatchSite, case_dir: Path
) -> None:
    url = site.base + "/watched"
    states = []
    for status, body in [(200, "<h1>first version</h1>"), (200, "<h1>first version</h1>"),
                         (200, "<h1>second version</h1>"), (404, "removed")]:  # fmt: skip
        site.answers.status, site.answers.body = status, body
        [check] = _once(case_dir, url).checks
        states.append((check.state, check.reason, check.group is not None))
    site.stop()
    [check] = _once(case_dir, url).checks
    states.append((check.state, check.reason is not None, check.group is not None))
    assert states == [
        ("available", None, True),  # first seen: a full capture
        ("available", None, False),  # the same page: no new capture
        ("changed", None, True),  # changed: a new full capture
        ("gone", "http_404", True),  # the removal answer, captured
        ("unreachable", True, False),  # connection refused: not gone
    ]
    watch_entries = [e for e in log_entries(case_dir) if e["action"] == "watch"]
    assert [e["details"]["state"] for e in watch_entries] == [
        "available",
        "available",
        "changed",
        "gone",
        "unreachable",
    ]
    status = watch_status(examiner_session(), case_dir)
    [timeline] = status.urls
    assert [s.state for s in timeline.spans] == ["available", "changed", "gone", "unreachable"]
    assert timeline.gone_at is None  # unreachable now: not said to be gone


def test_telegram_blocked_channel_is_gone(site: WatchSite, case_dir: Path) -> None:
    rules = f"MAP t.me 127.0.0.1:{site.port}"
    settings = WatchSettings(once=True, timeout=10.0, host_interval=0.0, settle=0.0,
                             resolver_rules=rules)  # fmt: skip
    run = _once(case_dir, "http://t.me/s/evidence_channel", "http://t.me/s/live_channel",
                settings=settings)  # fmt: skip
    assert [(c.state, c.reason) for c in run.checks] == [
        ("gone", "telegram_blocked"),
        ("available", None),
    ]
    assert "t.me/s/evidence_channel" in site.answers.hits


def test_name_that_does_not_exist_versus_a_silent_resolver() -> None:
    from forensic.capture.watch import name_does_not_exist

    def nxdomain(host: str, port: object) -> None:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    def no_answer(host: str, port: object) -> None:
        raise socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution")

    assert name_does_not_exist("gone.example", nxdomain)
    assert not name_does_not_exist("gone.example", no_answer)
    assert not name_does_not_exist("localhost")
