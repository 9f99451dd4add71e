"""``forensic cluster``: certificates, a scheduler and workers for analysis on Dask over TLS."""

from __future__ import annotations

import asyncio
import contextlib
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from forensic.analysis.cluster import DEFAULT_HOSTS, make_certs, security


def no_spill() -> dict[str, Any]:
    """Dask settings with spilling off: a worker never writes task data (evidence) to disk."""
    return {"distributed.worker.memory.target": False, "distributed.worker.memory.spill": False}


def cluster_config() -> dict[str, Any]:
    """The settings of the tool's scheduler and workers: no spilling, and their plain-HTTP
    server answers only a health check (no dashboard, no task names: they hold item hashes)."""
    health = ["distributed.http.health"]
    return {
        **no_spill(),
        "distributed.scheduler.http.routes": health,
        "distributed.worker.http.routes": health,
    }


@dataclass(frozen=True)
class CertsResult:
    folder: Path
    certificates: dict[str, str]
    """File name -> SHA-256 of the certificate (DER)."""

    def as_dict(self) -> dict[str, Any]:
        return {"ok": True, "folder": str(self.folder), "certificates": self.certificates}


def cluster_certs(
    folder: Path, hosts: Sequence[str] = (), workers: Sequence[str] = ()
) -> CertsResult:
    """A new cluster CA and the scheduler's, the workers' and the coordinator's certificates
    (and one per named worker machine)."""
    return CertsResult(folder, make_certs(folder, tuple(hosts) or DEFAULT_HOSTS, workers))


def worker_directory() -> str:
    """A private scratch folder for a worker, in RAM (``/dev/shm``) where the machine has it."""
    shm = Path("/dev/shm")
    return tempfile.mkdtemp(prefix="forensic-worker-", dir=shm if shm.is_dir() else None)


def run_scheduler(
    certs: Path, host: str, port: int, on_up: Callable[[str], None]
) -> None:  # pragma: no cover - runs until stopped
    """A Dask scheduler that accepts only mutual-TLS connections with this cluster's certs."""
    import dask
    from distributed import Scheduler

    async def serve() -> None:
        async with Scheduler(
            host=host, port=port, protocol="tls", security=security(certs, "scheduler"),
            dashboard=False, dashboard_address=f"{host}:0",
        ) as scheduler:  # fmt: skip
            on_up(scheduler.address)
            await scheduler.finished()

    with dask.config.set(cluster_config()), contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve())


def run_worker(
    certs: Path, address: str, threads: int, on_up: Callable[[str], None], name: str | None = None
) -> None:  # pragma: no cover - runs until stopped
    """A Dask worker (under a nanny that restarts it) with spilling off, joining over TLS."""
    import dask
    from distributed import Nanny

    async def serve() -> None:
        async with Nanny(
            f"tls://{address}", nthreads=threads, security=security(certs, "worker", name),
            local_directory=worker_directory(), dashboard=False,
        ) as nanny:  # fmt: skip
            on_up(str(nanny.worker_address))
            await nanny.finished()

    with dask.config.set(cluster_config()), contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve())
