"""The detectors run by ``forensic analyze`` (a new one registers itself here)."""

from __future__ import annotations

from forensic.analysis.interface import Detector

_DETECTORS: list[Detector] = []
_DEFAULTS_LOADED = False


def register(detector: Detector) -> None:
    """Add a detector (a later one with the same name replaces the earlier one)."""
    for n, existing in enumerate(_DETECTORS):
        if existing.name == detector.name:
            _DETECTORS[n] = detector
            return
    _DETECTORS.append(detector)


def _load_defaults() -> None:
    global _DEFAULTS_LOADED
    if _DEFAULTS_LOADED:
        return
    _DEFAULTS_LOADED = True
    from forensic.analysis.copymove import CopyMoveDetector
    from forensic.analysis.faces import FaceDetector
    from forensic.analysis.grid_zero import GridZeroDetector
    from forensic.analysis.jpeg import JpegDetector
    from forensic.analysis.maps import PixelMapDetector
    from forensic.analysis.onnx_model import OnnxDetector
    from forensic.analysis.provenance import ProvenanceDetector
    from forensic.analysis.resampling import ResamplingDetector
    from forensic.analysis.sd_watermark import SdWatermarkDetector
    from forensic.analysis.spectrum import SpectrumDetector
    from forensic.analysis.video import VideoDetector

    register(ProvenanceDetector())
    register(JpegDetector())
    register(GridZeroDetector())
    register(ResamplingDetector())
    register(PixelMapDetector())
    register(SpectrumDetector())
    register(FaceDetector())
    register(CopyMoveDetector())
    register(VideoDetector())
    register(OnnxDetector())
    register(SdWatermarkDetector())


def detectors() -> list[Detector]:
    _load_defaults()
    return list(_DETECTORS)
