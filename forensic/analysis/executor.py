"""Where detection runs: in this process, in N local processes, or on Dask workers.

The coordinator (the one process that holds the case) plans each item: its bytes, media type,
metadata and the detectors with their versions and parameters. A worker runs only the pure
compute, :func:`compute_item` (``analyze_path`` on the bytes held in an anonymous in-memory
file), with no access to the case, and returns every document and figure with its SHA-256.
The coordinator checks them by value (:func:`check_computed`) before it commits the item
through the case's one transaction. Items are committed in plan order, a bounded window of
them in flight, so a run gives the same files and the same log order whatever computed it.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import os
import platform
import uuid
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from forensic._internal.canonical import canonical_json
from forensic.analysis.cluster import (
    CA_FILE,
    ClusterError,
    ClusterFault,
    certificate_sha256,
    issued_by_ca,
    security,
)
from forensic.analysis.interface import Detector
from forensic.analysis.store import analyze_path, detector_record
from forensic.case.records import tool_record
from forensic.store import crypt

#: libraries whose versions can change a result; a worker reports them, the log keeps them
LIBRARIES = ("forensic", "numpy", "pillow", "opencv-python-headless", "av", "pyrage", "dask",
             "distributed", "onnxruntime")  # fmt: skip
CONNECT_TIMEOUT_S = 20


@dataclass(frozen=True)
class ItemTask:
    """One item as the coordinator planned it: everything a worker needs, nothing of the case."""

    item_id: str
    media_type: str
    metadata: dict[str, Any] | None
    metadata_source: str
    data: bytes = field(repr=False)
    detectors: dict[str, dict[str, Any]]
    """The records (name, version, parameters, libraries) of the detectors that must run."""
    not_applicable: tuple[str, ...]
    """The built-in detectors that do not apply to this media type (in registry order)."""
    off_disk: bool
    """An encrypted case: the worker must keep nothing on disk (no spilling)."""


@dataclass(frozen=True)
class ComputedItem:
    item_id: str
    input_sha256: str
    results: dict[str, tuple[dict[str, Any], dict[str, bytes]]]
    skipped: list[str]
    digests: dict[str, str]
    """SHA-256 of each canonical document (``<detector>.json``) and figure, as computed."""
    worker: dict[str, Any] | None
    """Who computed it (Dask workers): address, certificate, library versions, spill state."""


def library_versions() -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for name in LIBRARIES:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    return versions


def worker_storage(dask_worker: Any) -> dict[str, Any]:
    """Whether a Dask worker can write task data to its disk (spilling) and where it would."""
    memory = dask_worker.memory_manager
    return {
        "target": memory.memory_target_fraction,
        "spill": memory.memory_spill_fraction,
        "local_directory": str(dask_worker.local_directory),
    }


def _worker_identity(off_disk: bool) -> dict[str, Any] | None:
    try:
        from distributed import get_worker

        worker = get_worker()
    except (ImportError, ValueError):
        return None
    cert_path = getattr(worker.security, "tls_worker_cert", None)
    storage = worker_storage(worker)
    if off_disk and (storage["target"] is not False or storage["spill"] is not False):
        raise RuntimeError(f"worker {worker.address} may spill to disk: refused for this case")
    return {
        "address": str(worker.address),
        "certificate": Path(cert_path).read_text("ascii") if cert_path else None,
        "libraries": library_versions(),
        "spill": storage["target"] is not False or storage["spill"] is not False,
    }


def _digests(results: dict[str, tuple[dict[str, Any], dict[str, bytes]]]) -> dict[str, str]:
    out: dict[str, str] = {}
    for name, (doc, figures) in results.items():
        out[f"{name}.json"] = hashlib.sha256(canonical_json(doc)).hexdigest()
        for fig, data in figures.items():
            out[fig] = hashlib.sha256(data).hexdigest()
    return out


def compute_item(task: ItemTask) -> ComputedItem:
    """The pure compute of one item (runs on a worker): no case, no file on disk."""
    worker = _worker_identity(task.off_disk)
    digest = hashlib.sha256(task.data).hexdigest()
    with crypt.memfd(task.item_id[:16]) as fd:
        view = memoryview(task.data)
        while view:
            view = view[os.write(fd, view) :]
        os.lseek(fd, 0, os.SEEK_SET)
        # /proc/<pid>/fd/N: child processes (ffmpeg) can open it too
        path = Path(f"/proc/{os.getpid()}/fd/{fd}")
        results, skipped = analyze_path(path, task.media_type, task.metadata, task.metadata_source)
    return ComputedItem(task.item_id, digest, results, skipped, _digests(results), worker)


def check_computed(task: ItemTask, computed: ComputedItem, ca_pem: bytes | None) -> dict[str, Any]:
    """Check a worker's answer by value; returns what the log records about who computed it.

    The input hash, the planned detectors with their versions and parameters, the tool's
    version, every document's and figure's SHA-256 and, for a Dask worker, its certificate
    (issued by this cluster's CA) must all be as planned; anything else stops the run."""

    def refuse(what: str) -> ClusterFault:
        return ClusterFault("result_refused", item=task.item_id[:16], what=what)

    if computed.item_id != task.item_id or computed.input_sha256 != task.item_id:
        raise refuse("input SHA-256")
    if sorted(computed.results) != sorted(task.detectors) or tuple(computed.skipped) != tuple(
        task.not_applicable
    ):
        raise refuse("detectors")
    if _digests(computed.results) != computed.digests:
        raise refuse("SHA-256 of a document or figure")
    tool = tool_record()
    for name, (doc, figures) in computed.results.items():
        if doc.get("detector") != task.detectors[name] or doc.get("tool") != tool:
            raise refuse(f"{name}: detector or tool version")
        listed = {f["name"]: (f["sha256"], f["size"]) for f in doc.get("figures", [])}
        have = {n: (hashlib.sha256(b).hexdigest(), len(b)) for n, b in figures.items()}
        if listed != have:
            raise refuse(f"{name}: figures")
    if computed.worker is None:
        return {}
    cert = computed.worker.get("certificate")
    if ca_pem is None or not cert or not issued_by_ca(cert.encode("ascii"), ca_pem):
        raise refuse("worker certificate")
    if task.off_disk and computed.worker.get("spill") is not False:
        raise refuse("worker spills to disk")
    return {
        "executor": "dask",
        "worker": computed.worker["address"],
        "certificate_sha256": certificate_sha256(cert.encode("ascii")),
        "libraries": computed.worker["libraries"],
    }


class _Future(Protocol):
    def result(self) -> Any: ...
    def cancel(self) -> Any: ...


def _outcome(task: ItemTask, future: _Future) -> tuple[ItemTask, ComputedItem]:
    """The task's result; a failure on the worker side (the task raised, its workers kept
    dying, the cluster went away) becomes one line naming the item."""
    try:
        computed: ComputedItem = future.result()
    except Exception as exc:
        error = f"{type(exc).__name__}: {exc}"
        raise ClusterFault("task_failed", item=task.item_id[:16], error=error[:300]) from exc
    return task, computed


def in_plan_order(
    submit: Callable[[ItemTask], _Future], tasks: Iterable[ItemTask], window: int
) -> Iterator[tuple[ItemTask, ComputedItem]]:
    """Submit tasks ``window`` at a time and yield their results in the order planned."""
    pending: deque[tuple[ItemTask, _Future]] = deque()
    try:
        for task in tasks:
            pending.append((task, submit(task)))
            if len(pending) >= window:
                yield _outcome(*pending.popleft())
        while pending:
            yield _outcome(*pending.popleft())
    finally:
        for _task, future in pending:
            future.cancel()


class Executor(Protocol):
    name: str
    ca_pem: bytes | None

    def run(self, tasks: Iterable[ItemTask]) -> Iterator[tuple[ItemTask, ComputedItem]]: ...
    def close(self) -> None: ...


class ProcessExecutor:
    """``local:N``: N worker processes on this machine, bytes handed over a pipe."""

    def __init__(self, processes: int) -> None:
        import multiprocessing

        self.name = f"local:{processes}"
        self.ca_pem: bytes | None = None
        self._processes = processes
        context = multiprocessing.get_context("forkserver")
        self._pool = ProcessPoolExecutor(processes, mp_context=context)

    def run(self, tasks: Iterable[ItemTask]) -> Iterator[tuple[ItemTask, ComputedItem]]:
        return in_plan_order(
            lambda t: self._pool.submit(compute_item, t), tasks, 2 * self._processes
        )

    def close(self) -> None:
        self._pool.shutdown(cancel_futures=True)


class DaskExecutor:
    """``dask://HOST:PORT``: a Dask scheduler reached over mutual TLS with the tool's certs."""

    def __init__(self, address: str, certs: Path, off_disk: bool) -> None:
        from distributed import Client

        self.name = f"dask://{address}"
        self.ca_pem: bytes | None = (certs / CA_FILE).read_bytes()
        self._off_disk = off_disk
        try:
            self._client = Client(  # type: ignore[no-untyped-call]
                f"tls://{address}",
                security=security(certs, "client"),
                timeout=CONNECT_TIMEOUT_S,
                set_as_default=False,
            )
        except OSError as exc:
            raise ClusterFault("unreachable", address=address, error=str(exc)) from exc
        try:
            self._workers = self._checked_workers()
        except BaseException:
            self._client.close()  # type: ignore[no-untyped-call]
            raise

    def _checked_workers(self) -> int:
        try:
            self._client.wait_for_workers(1, timeout=CONNECT_TIMEOUT_S)
        except TimeoutError as exc:
            raise ClusterFault("no_workers", address=self.name) from exc
        storage = self._client.run(worker_storage)
        if self._off_disk:
            for worker, state in sorted(storage.items()):
                if state["target"] is not False or state["spill"] is not False:
                    raise ClusterError("worker_spills", worker=worker)
        return len(storage)

    def run(self, tasks: Iterable[ItemTask]) -> Iterator[tuple[ItemTask, ComputedItem]]:
        run = uuid.uuid4().hex  # two cases with the same item never share a task (key)

        def submit(task: ItemTask) -> _Future:
            key = f"forensic-analyze-{run}-{task.item_id}"
            future: _Future = self._client.submit(compute_item, task, key=key, pure=False)
            return future

        return in_plan_order(submit, tasks, 2 * self._workers + 1)

    def close(self) -> None:
        self._client.close()  # type: ignore[no-untyped-call]


def parse_executor(spec: str, certs: Path | None) -> tuple[str, str | int]:
    """``("local", 0)``, ``("local", N)`` or ``("dask", "HOST:PORT")`` from ``--executor``;
    a Dask address without TLS certificates is refused (evidence never goes over plain TCP)."""
    if spec in ("", "local"):
        return "local", 0
    if spec.startswith("local:"):
        count = spec.removeprefix("local:")
        if not count.isdigit() or not 1 <= int(count) <= 256:
            raise ClusterError("bad_executor", spec=spec)
        return "local", int(count)
    for scheme in ("dask://", "tls://"):
        if spec.startswith(scheme):
            address = spec.removeprefix(scheme)
            host, _, port = address.rpartition(":")
            if not host or not port.isdigit():
                raise ClusterError("bad_executor", spec=spec)
            if certs is None:
                raise ClusterError("needs_tls", spec=spec)
            return "dask", address
    raise ClusterError("bad_executor", spec=spec)


def open_executor(spec: str, certs: Path | None, off_disk: bool) -> Executor | None:
    """The executor ``--executor`` names (``None``: this process, as always)."""
    kind, value = parse_executor(spec, certs)
    if kind == "local":
        return ProcessExecutor(int(value)) if value else None
    assert certs is not None
    return DaskExecutor(str(value), certs, off_disk)


@dataclass(frozen=True)
class DetectorPlan:
    """The built-in detectors of this run: what every worker must run, and how."""

    detectors: tuple[Detector, ...]
    records: dict[str, dict[str, Any]]

    @classmethod
    def built_in(cls) -> DetectorPlan:
        from forensic.analysis.registry import default_registry

        every = tuple(default_registry().detectors())
        return cls(every, {d.name: detector_record(d) for d in every})

    def for_media_type(self, media_type: str) -> tuple[dict[str, dict[str, Any]], tuple[str, ...]]:
        """The records of the detectors that apply, and the names of those that do not."""
        return (
            {d.name: self.records[d.name] for d in self.detectors if d.accepts(media_type)},
            tuple(d.name for d in self.detectors if not d.accepts(media_type)),
        )
