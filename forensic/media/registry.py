"""The list of describers run for every item (image, video, ... register themselves here)."""

from __future__ import annotations

from forensic.media.interface import MediaDescriber

_DESCRIBERS: list[MediaDescriber] = []
_DEFAULTS_LOADED = False


def register(describer: MediaDescriber) -> None:
    """Add a describer (a later one with the same name replaces the earlier one)."""
    for n, existing in enumerate(_DESCRIBERS):
        if existing.name == describer.name:
            _DESCRIBERS[n] = describer
            return
    _DESCRIBERS.append(describer)


def _load_defaults() -> None:
    global _DEFAULTS_LOADED
    if _DEFAULTS_LOADED:
        return
    _DEFAULTS_LOADED = True
    from forensic.media.c2pa_reader import C2paDescriber
    from forensic.media.image import image_describers
    from forensic.media.video import VideoDescriber

    for describer in image_describers():
        register(describer)
    register(C2paDescriber())
    register(VideoDescriber())


def describers() -> list[MediaDescriber]:
    """Every registered describer, the built-in image ones first."""
    _load_defaults()
    return list(_DESCRIBERS)
