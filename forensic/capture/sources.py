"""Every kind of capture source behind one registry: what each claims and how it acquires.

Two families, because evidence reaches the case in two ways:

* a :class:`PathSource` claims paths the user named (files and folders, a Telegram export
  folder, a KakaoTalk export file, later a phone backup) and turns one into a planner
  (:class:`forensic.capture.interface.Source`); every path of one capture goes through the one
  file pipeline (:func:`forensic.capture.acquire.capture_paths`): one run, one lock, copied while
  hashed, the stored copy proved before it is logged;
* a :class:`FetchedSource` makes its bytes itself (a web page load, a screen grab, later an
  API): it claims an argument (an ``http(s)://`` address) or a flag (the screen), fetches with
  no case lock held, then commits what it got as one capture group.

A new source is one module: a class of either family and a ``register(registry)`` function, its
module named in :data:`BUILT_IN`. A registry is an ordinary object (:func:`default_registry`
builds a fresh one each time): nothing registers into module state.
"""

from __future__ import annotations

import os
from abc import ABC, abstractmethod
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from importlib import import_module
from typing import TYPE_CHECKING, Any, ClassVar, Literal

if TYPE_CHECKING:
    from forensic.capture.interface import Source
    from forensic.case.case import Case, RecoveryReport
    from forensic.custody.keys import ExaminerKey
    from forensic.progress import ProgressReporter

BUILT_IN = (
    "forensic.capture.telegram",
    "forensic.capture.kakaotalk",
    "forensic.capture.filesystem",
    "forensic.capture.web",
    "forensic.capture.screen",
)
"""Modules whose ``register(registry)`` the default registry calls, in this order (paths are
offered to specific sources in registration order; a catch-all source comes last)."""


@dataclass(frozen=True)
class CaptureInput:
    """One thing the user asked to capture: an argument (a path or an address) or a flag."""

    argument: bytes | None = None
    """As given, in file-system bytes (a path need not be UTF-8)."""
    flag: str | None = None
    """A source asked for by name with no argument (``"screen"``)."""

    @classmethod
    def of(cls, argument: str | bytes | os.PathLike[str] | os.PathLike[bytes]) -> CaptureInput:
        return cls(argument=os.fsencode(argument))

    @property
    def text(self) -> str:
        """The argument as text (an address; undecodable path bytes escaped), or ``--flag``."""
        if self.argument is not None:
            return os.fsdecode(self.argument)
        return f"--{self.flag}"


SCREEN = CaptureInput(flag="screen")


class NotThisSource(Exception):
    """A path is not this source's; ``reason`` (a ``reason.*`` key) says why when it was named."""

    def __init__(self, code: str, **params: str) -> None:
        super().__init__(code)
        self.reason = code
        self.params = params


class CaptureSource(ABC):
    """A kind of capture source, as the registry knows it."""

    name: ClassVar[str]
    """Its name: what ``--source`` names (path sources) and its member of the JSON document
    (fetched sources)."""


class PathSource(CaptureSource):
    """A source read from a path the user named; acquired by the one file pipeline."""

    catch_all: ClassVar[bool] = False
    """Takes any path the specific sources did not (plain files and folders): asked last."""

    @abstractmethod
    def claim(self, path: bytes, follow_symlinks: bool, named: bool) -> Source:
        """The planner of ``path`` if it is this source's, else :class:`NotThisSource`.

        ``named``: ``--source`` named this source, so the path is refused with a reason the user
        reads; otherwise the registry just asks the next source.
        """


@dataclass(frozen=True)
class FetchOptions:
    """What the user asked of a fetched source."""

    note: str | None = None
    timeout: float = 30.0
    """Seconds a page may take to load."""
    delay: float = 0.0
    """Seconds to wait before a screen grab."""
    lang: str = "en"
    """Language of the lines the source writes for a person (and of its warnings)."""


ReportLine = tuple[Literal["say", "warn"], str]


@dataclass(frozen=True)
class FetchedCapture:
    """What a fetched source committed: its member of the JSON document, the items whose text is
    read afterwards, and the lines it tells a person (in order)."""

    entry: dict[str, Any]
    """A ``"recovered"`` member, when present, is filled in from ``recovery`` by the caller."""
    recovery: RecoveryReport
    readable: tuple[str, ...] = ()
    said: tuple[ReportLine, ...] = ()


class FetchedSource(CaptureSource):
    """A source whose bytes this tool produces: fetched first, then committed as one group."""

    single: ClassVar[bool] = False
    """At most one per capture (the screen): its JSON member is an object or null, not a list."""

    @abstractmethod
    def claims(self, given: CaptureInput) -> bool:
        """Whether ``given`` is this source's (an address of its scheme, its flag)."""

    def check(self, given: CaptureInput) -> None:
        """Raise a usage error for a malformed input, before anything is fetched."""

    @abstractmethod
    def label(self, given: CaptureInput) -> dict[str, Any]:
        """How a failure names the input in the JSON document (``{"url": ...}``)."""

    @abstractmethod
    def acquire(
        self,
        case: Case,
        key: ExaminerKey,
        given: CaptureInput,
        options: FetchOptions,
        progress: ProgressReporter,
    ) -> FetchedCapture:
        """Fetch with no case lock held, then commit one capture group (raises on failure)."""


@dataclass(frozen=True)
class Routed:
    """The inputs of one capture, by the family that acquires them (never both)."""

    paths: tuple[bytes, ...] = ()
    fetched: tuple[tuple[FetchedSource, CaptureInput], ...] = ()


@dataclass
class SourceRegistry:
    """The capture sources one capture may use, asked in registration order."""

    sources: list[CaptureSource] = field(default_factory=list)

    def register(self, source: CaptureSource) -> None:
        if any(s.name == source.name for s in self.sources):
            raise ValueError(f"a capture source named {source.name!r} is already registered")
        self.sources.append(source)

    def path_sources(self) -> list[PathSource]:
        """Specific sources first, in registration order, then the catch-all ones."""
        paths = [s for s in self.sources if isinstance(s, PathSource)]
        return [s for s in paths if not s.catch_all] + [s for s in paths if s.catch_all]

    def fetched_sources(self) -> list[FetchedSource]:
        return [s for s in self.sources if isinstance(s, FetchedSource)]

    def choices(self) -> tuple[str, ...]:
        """What ``--source`` may name, in the order paths are offered to them."""
        return tuple(s.name for s in self.path_sources())

    def path_source(self, name: str) -> PathSource:
        for source in self.sources:
            if isinstance(source, PathSource) and source.name == name:
                return source
        from forensic.capture.transcript import ChatError

        raise ChatError("unknown_source", source=name, choices=", ".join(self.choices()))

    def claim_path(self, path: bytes, follow_symlinks: bool, named: str | None) -> Source:
        """The planner of ``path``: from the source ``--source`` named, else the first that
        claims it. :class:`NotThisSource` when none does."""
        if named is not None:
            return self.path_source(named).claim(path, follow_symlinks, True)
        for source in self.path_sources():
            try:
                return source.claim(path, follow_symlinks, False)
            except NotThisSource:
                continue
        raise NotThisSource("no_source")

    def route(self, inputs: Iterable[CaptureInput]) -> Routed:
        """Which family acquires the inputs: addresses and flags to the fetched source that
        claims them, every other argument to the file pipeline; both at once is refused."""
        paths: list[bytes] = []
        fetched: list[tuple[FetchedSource, CaptureInput]] = []
        for given in inputs:
            source = next((s for s in self.fetched_sources() if s.claims(given)), None)
            if source is not None:
                fetched.append((source, given))
            elif given.argument is not None:
                paths.append(given.argument)
            else:
                from forensic.errors import UsageError

                raise UsageError("unclaimed_input", input=given.text)
        if paths and fetched:
            from forensic.capture.web_errors import WebUsageError

            raise WebUsageError("mixed_inputs")
        if not paths and not fetched:
            from forensic.errors import UsageError

            raise UsageError("no_paths")
        return Routed(tuple(paths), tuple(fetched))


def default_registry(modules: Sequence[str] = BUILT_IN) -> SourceRegistry:
    """A fresh registry of the built-in sources (each module registers its own)."""
    registry = SourceRegistry()
    for name in modules:
        import_module(name).register(registry)
    return registry
