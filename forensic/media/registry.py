"""The describers run for every item (image, video, ...): an explicit registry, built per use.

A new built-in describer is one module and one line in :func:`default_registry`; code that wants
other describers builds its own :class:`DescriberRegistry`. Nothing here is process-wide.
"""

from __future__ import annotations

from collections.abc import Iterable

from forensic.media.interface import MediaDescriber


class DescriberRegistry:
    """Describers by name, in the order they run (the record lists them in this order)."""

    def __init__(self, describers: Iterable[MediaDescriber] = ()) -> None:
        self._describers: list[MediaDescriber] = []
        for describer in describers:
            self.register(describer)

    def register(self, describer: MediaDescriber) -> None:
        """Add a describer (a later one with the same name replaces the earlier one)."""
        for n, existing in enumerate(self._describers):
            if existing.name == describer.name:
                self._describers[n] = describer
                return
        self._describers.append(describer)

    def describers(self) -> list[MediaDescriber]:
        return list(self._describers)


def default_registry() -> DescriberRegistry:
    """A new registry of the built-in describers, the image ones first."""
    from forensic.media.c2pa_reader import C2paDescriber
    from forensic.media.image import image_describers
    from forensic.media.video import VideoDescriber

    return DescriberRegistry([*image_describers(), C2paDescriber(), VideoDescriber()])


def describers() -> list[MediaDescriber]:
    """Every built-in describer, the image ones first (fresh instances on every call)."""
    return default_registry().describers()
