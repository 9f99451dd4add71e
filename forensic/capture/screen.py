"""``forensic capture --screen [--delay N]``: a screenshot of what the user sees.

The pixels are grabbed from the X display (python-mss over Xlib; under Wayland only what
XWayland shows), encoded as PNG in memory and acquired straight into the case: no intermediate
file exists outside it. One capture group of kind ``screen`` holds the PNG; the group records
the display, the monitors' geometry and the capture time.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from typing import Any

from forensic._internal.clock import utc_timestamp
from forensic.capture._staged import Generated, GeneratedResult, acquire_generated
from forensic.capture.sources import (
    CaptureInput,
    FetchedCapture,
    FetchedSource,
    FetchOptions,
    SourceRegistry,
)
from forensic.capture.web import WebError, WebUsageError
from forensic.case.case import Case
from forensic.custody.keys import ExaminerKey
from forensic.i18n import message
from forensic.progress import SILENT, ProgressReporter

MAX_DELAY = 600.0


@dataclass(frozen=True)
class ScreenCaptureResult:
    item_id: str
    width: int
    height: int
    capture: GeneratedResult
    details: dict[str, Any]


def grab_screen() -> tuple[bytes, int, int, dict[str, Any]]:
    """The whole virtual screen (all monitors) as PNG bytes, never written to disk."""
    display = os.environ.get("DISPLAY")
    if not display:
        raise WebError("no_display", reason="DISPLAY is not set")
    try:
        import mss
        import mss.tools
    except ImportError as exc:
        raise WebError("screen_failed", reason=f"python-mss missing: {exc}") from exc
    try:
        with mss.MSS() as sct:
            monitors = [dict(m) for m in sct.monitors]
            shot = sct.grab(sct.monitors[0])
            png = mss.tools.to_png(shot.rgb, shot.size)
    except mss.exception.ScreenShotError as exc:
        raise WebError("no_display", reason=f"{display}: {exc}") from exc
    if png is None:
        raise WebError("screen_failed", reason="no PNG produced")
    info = {
        "display": display,
        "monitors": monitors,
        "session_type": os.environ.get("XDG_SESSION_TYPE"),
        "grabber": f"python-mss {getattr(mss, '__version__', '?')}",
    }
    return png, int(shot.size.width), int(shot.size.height), info


def capture_screen(
    case: Case,
    key: ExaminerKey,
    delay: float = 0.0,
    progress: ProgressReporter = SILENT,
    note: str | None = None,
) -> ScreenCaptureResult:
    if not 0 <= delay <= MAX_DELAY:
        raise WebUsageError("bad_delay", delay=f"{delay:g}")
    case.check_key(key)
    if delay:
        time.sleep(delay)
    taken = utc_timestamp()
    png, width, height, info = grab_screen()
    details = {**info, "width": width, "height": height, "delay_s": delay, "taken": taken}
    common: dict[str, Any] = {"note": note} if note else {}
    result = acquire_generated(
        case,
        key,
        "screen",
        details,
        [Generated("screenshot.png", png, "image/png", taken, {"display": info["display"]})],
        common,
        progress,
    )
    return ScreenCaptureResult(result.acquired[0].item_id, width, height, result, details)


class Screen(FetchedSource):
    """``--screen``: what the X display shows now, grabbed into memory, then stored."""

    name = "screen"
    single = True

    def claims(self, given: CaptureInput) -> bool:
        return given.flag == "screen"

    def label(self, given: CaptureInput) -> dict[str, Any]:
        return {"screen": True}

    def acquire(
        self,
        case: Case,
        key: ExaminerKey,
        given: CaptureInput,
        options: FetchOptions,
        progress: ProgressReporter,
    ) -> FetchedCapture:
        shot = capture_screen(case, key, options.delay, progress, options.note)
        entry = {
            "sha256": shot.item_id,
            "width": shot.width,
            "height": shot.height,
            "group": shot.capture.group_id,
            "run": shot.capture.run_id,
            "seq": shot.capture.acquired[0].seq,
            "details": shot.details,
        }
        said = message(
            "web.screen_captured",
            options.lang,
            width=shot.width,
            height=shot.height,
            item=shot.item_id,
        )
        return FetchedCapture(entry, shot.capture.recovery, (shot.item_id,), (("say", said),))


def register(registry: SourceRegistry) -> None:
    registry.register(Screen())
