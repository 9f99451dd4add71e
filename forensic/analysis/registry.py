"""The detectors run by ``forensic analyze``: an explicit registry, built per analysis run.

A new built-in detector is one module and one line in :func:`default_registry`; a front end or
a test that wants other detectors builds its own :class:`DetectorRegistry` and passes it to
:func:`forensic.analysis.store.analyze_items`. Nothing here is process-wide: two analyses in one
process never see each other's detectors.
"""

from __future__ import annotations

from collections.abc import Iterable

from forensic.analysis.interface import Detector


class DetectorRegistry:
    """Detectors by name, in the order they run (and are listed in records and reports)."""

    def __init__(self, detectors: Iterable[Detector] = ()) -> None:
        self._detectors: list[Detector] = []
        for detector in detectors:
            self.register(detector)

    def register(self, detector: Detector) -> None:
        """Add a detector (a later one with the same name replaces the earlier one)."""
        for n, existing in enumerate(self._detectors):
            if existing.name == detector.name:
                self._detectors[n] = detector
                return
        self._detectors.append(detector)

    def detectors(self) -> list[Detector]:
        return list(self._detectors)


def default_registry() -> DetectorRegistry:
    """A new registry of the built-in detectors (their libraries load when this is called)."""
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

    return DetectorRegistry(
        [
            ProvenanceDetector(),
            JpegDetector(),
            GridZeroDetector(),
            ResamplingDetector(),
            PixelMapDetector(),
            SpectrumDetector(),
            FaceDetector(),
            CopyMoveDetector(),
            VideoDetector(),
            OnnxDetector(),
            SdWatermarkDetector(),
        ]
    )


def detectors() -> list[Detector]:
    """The built-in detectors, in their fixed order (fresh instances on every call)."""
    return default_registry().detectors()
