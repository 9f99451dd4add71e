"""Detection analysis: pluggable detectors whose findings and figures are stored in the case."""

from forensic.analysis.interface import Detector, DetectorResult, Finding
from forensic.analysis.registry import detectors, register

__all__ = ["Detector", "DetectorResult", "Finding", "detectors", "register"]
