"""Detection analysis: pluggable detectors whose findings and figures are stored in the case."""

from forensic.analysis.interface import Detector, DetectorResult, Finding
from forensic.analysis.registry import DetectorRegistry, default_registry, detectors

__all__ = [
    "Detector",
    "DetectorRegistry",
    "DetectorResult",
    "Finding",
    "default_registry",
    "detectors",
]
