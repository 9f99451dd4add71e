"""The pluggable detector interface: one detector per forensic signal family.

A detector declares its ``name``, ``version``, ``parameters``, the ``media_types`` it applies to
and reads its measured error rates from ``error_rates.json`` (written by
``bench/eval_detection.py``). It turns one item into :class:`Finding` objects and optional
figures (PNG bytes). It must never raise for bad input: what it cannot analyse becomes a
``not_applicable`` finding that says why. If it raises anyway, the run records a ``failed``
finding naming the error (:func:`detector_failed`): a fault of the tool, never "does not
apply". Adding a detector means one module and one line in
:func:`forensic.analysis.registry.default_registry`; nothing else changes.
"""

from __future__ import annotations

import json
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")

#: wording of every finding: never "fake" or "authentic"
STATUS_INDICATES = "indicates"  # the value passed a threshold set at <= 1% FPR, or positive proof
STATUS_NO_EVIDENCE = "no_evidence"  # nothing found (this does not prove absence)
STATUS_INFO = "info"  # a measurement or a figure for the examiner, no decision
STATUS_NOT_APPLICABLE = "not_applicable"  # the signal cannot be computed for this input
STATUS_FAILED = "failed"  # the detector raised: a fault of the tool, not a property of the item

ERROR_RATES_FILE = Path(__file__).with_name("error_rates.json")


@cache
def measured_error_rates() -> dict[str, Any]:
    """Per-signal error rates measured by ``bench/eval_detection.py`` (empty if never run)."""
    try:
        data = json.loads(ERROR_RATES_FILE.read_text("utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def error_rate(signal: str) -> dict[str, Any] | None:
    """The full measured entry of one signal (thresholds, per-manipulation metrics)."""
    rates = measured_error_rates().get("signals", {})
    value = rates.get(signal) if isinstance(rates, dict) else None
    return value if isinstance(value, dict) else None


def error_rate_summary(signal: str) -> dict[str, Any] | None:
    """What a finding quotes: the false-positive rate on untouched real photos, its bound, and
    per manipulation the AUC and the TPR at the threshold before/after recompression."""
    e = error_rate(signal)
    if e is None:
        return None
    out: dict[str, Any] = {"source": "docs/detection-evaluation.md"}
    for k in (
        "threshold",
        "fpr_untouched",
        "fpr_upper_95",
        "fpr_ci95",
        "n_neg",
        "n_calibration",
        "held_back",
        "decides",
        "feature_only",
        "flagged",
    ):
        if k in e:
            out[k] = e[k]
    for stage in ("before", "after"):
        kinds = e.get(stage)
        if isinstance(kinds, dict):
            out[f"{stage}_recompression"] = {
                kind: f"AUC {m.get('auc')}, TPR {m.get('tpr_at_detector_threshold')} / "
                f"FPR {m.get('fpr_at_detector_threshold')} at the threshold"
                for kind, m in kinds.items()
                if isinstance(m, dict)
            }
    return out


@dataclass
class Finding:
    """One signal's result. ``text_en``/``text_ko`` use 'consistent with', 'indicates',
    'no evidence of ... (this does not prove absence)'."""

    signal: str
    status: str
    method: str
    reference: str
    value: Any
    threshold: Any
    text_en: str
    text_ko: str
    limitations: str
    positive_proof: bool = False
    figures: list[str] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        rates = error_rate_summary(self.signal)
        return {
            "signal": self.signal,
            "status": self.status,
            "method": self.method,
            "reference": self.reference,
            "value": self.value,
            "threshold": self.threshold,
            "indicates": {"en": self.text_en, "ko": self.text_ko},
            "positive_proof": self.positive_proof,
            "measured_error_rates": rates
            if rates is not None
            else "not measured (bench/eval_detection.py has no figure for this signal)",
            "limitations": self.limitations,
            "figures": list(self.figures),
            **({"details": self.extra} if self.extra else {}),
        }


def held_back_gate(finding: Finding) -> Finding:
    """The finding as it may be stated: an 'indicates' of a signal whose false-positive rate on
    held-back photos (that no threshold saw) is not shown to be <= 1 % at its upper 95 % bound
    (``decides`` false in ``error_rates.json``) becomes 'info', the value kept and the reason
    said first. Positive proof (a signed manifest, a declared generator) is not a threshold and
    is left as it is."""
    from dataclasses import replace

    if finding.status != STATUS_INDICATES or finding.positive_proof:
        return finding
    e = error_rate(finding.signal)
    if e is None or e.get("decides") is not False:
        return finding
    n, hi = e.get("n_neg"), float(e.get("fpr_upper_95") or 1.0)
    bound = f"{hi * 100:.1f}".rstrip("0").rstrip(".")
    return replace(
        finding,
        status=STATUS_INFO,
        text_en=f"Over the threshold, reported as a measurement only: on {n} held-back real "
        f"photos its false-positive rate may be up to {bound} % (exact 95 % bound), not shown "
        f"to be at most 1 %. {finding.text_en}",
        text_ko=f"기준값을 넘었지만 참고 측정값으로만 보고합니다: 기준 설정에 쓰지 않은 실제 사진 "
        f"{n}장에서 오탐률이 최대 {bound} %(정확한 95 % 상한)일 수 있어 1 % 이하임이 보이지 "
        f"않았습니다. {finding.text_ko}",
    )


def not_applicable(signal: str, reason_en: str, reason_ko: str) -> Finding:
    """A finding that says the signal could not be computed for this item, and why."""
    return Finding(signal, STATUS_NOT_APPLICABLE, "", "", None, None, reason_en, reason_ko, "")


def detector_failed(signal: str, exc: Exception) -> Finding:
    """A finding that says the detector broke on this item (its error type and message): the
    signal was not computed, and that is the tool's fault, not something about the evidence."""
    from forensic.i18n import message

    error = {"type": type(exc).__name__, "message": str(exc)[:500]}
    params = {"error_type": error["type"], "error": error["message"]}
    return Finding(
        signal,
        STATUS_FAILED,
        "",
        "",
        None,
        None,
        message("analysis.detector_failed", "en", **params),
        message("analysis.detector_failed", "ko", **params),
        "",
        extra={"error": error},
    )


class AnalysisCache:
    """Values computed once per item and shared by its detectors (the file's bytes, the decoded
    pixels), so a 12 MP photo is read and decoded once, not once per detector. Thread-safe:
    detectors of one item may run in parallel; a second caller of a key waits for the first.
    A computation that raises is remembered and raises the same exception for every caller."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._key_locks: dict[str, threading.Lock] = {}
        self._values: dict[str, tuple[bool, Any]] = {}

    def get(self, key: str, compute: Callable[[], T]) -> T:
        with self._lock:
            key_lock = self._key_locks.setdefault(key, threading.Lock())
        with key_lock:
            if key not in self._values:
                try:
                    self._values[key] = (True, compute())
                except Exception as exc:
                    self._values[key] = (False, exc)
            ok, value = self._values[key]
        if not ok:
            raise value
        return value  # type: ignore[no-any-return]


@dataclass
class AnalysisInput:
    """What a detector gets: the case file (read only), its media type, its metadata record,
    and a cache shared by the detectors of this one item (see :class:`AnalysisCache`)."""

    path: Path
    media_type: str
    metadata: dict[str, Any] | None
    cache: AnalysisCache = field(default_factory=AnalysisCache, repr=False, compare=False)

    def read_bytes(self) -> bytes:
        """The file's bytes, read once per item."""
        return self.cache.get("bytes", self.path.read_bytes)


@dataclass
class DetectorResult:
    findings: list[Finding]
    #: figure file name (``<detector>-<what>.png``) -> PNG bytes
    figures: dict[str, bytes] = field(default_factory=dict)
    #: signal id -> localisation map (2-D float array in [0, 1], higher = more suspicious, any
    #: resolution; the evaluation resizes it to the mask). Scored against ground-truth masks by
    #: ``bench/eval_detection.py``; not stored in the case (the figures are).
    heatmaps: dict[str, Any] = field(default_factory=dict)


class Detector(ABC):
    """One family of forensic signals."""

    name: str = ""
    version: str = "1"
    #: media types (sniffed from magic bytes) this detector applies to; "*" for any
    media_types: tuple[str, ...] = ()

    def parameters(self) -> dict[str, Any]:
        """Every parameter that changes the numbers (recorded with the result)."""
        return {}

    def libraries(self) -> dict[str, str]:
        return {}

    def accepts(self, media_type: str) -> bool:
        return "*" in self.media_types or media_type in self.media_types

    @abstractmethod
    def analyze(self, item: AnalysisInput) -> DetectorResult:
        """Findings and figures; never raises for bad input."""
