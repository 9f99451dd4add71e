"""Long use cases off the request thread, with their progress for the page's event stream."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from forensic.errors import ForensicError
from forensic.progress import ProgressReporter


@dataclass
class Job:
    """One background run: what it is doing, how far, and what it gave (or why it failed)."""

    job_id: str
    kind: str
    phase: str = ""
    total: int | None = None
    done: int = 0
    state: str = "running"
    """``running``, ``done`` or ``failed``."""
    result: Any = None
    error: str | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {
                "job": self.job_id,
                "phase": self.phase,
                "total": self.total,
                "done": self.done,
                "state": self.state,
            }


class JobProgress(ProgressReporter):
    """The service's progress reporter, writing into its job (read by the event stream)."""

    def __init__(self, job: Job) -> None:
        self.job = job

    def start(self, label: str, total: int | None) -> None:
        with self.job._lock:
            self.job.phase, self.job.total, self.job.done = label, total, 0

    def advance(self, amount: int = 1) -> None:
        with self.job._lock:
            self.job.done += amount

    def finish(self) -> None:
        with self.job._lock:
            if self.job.total is not None:
                self.job.done = self.job.total


@dataclass
class JobBoard:
    """The jobs of this server (one person's), by id."""

    lang: Callable[[], str]
    jobs: dict[str, Job] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def get(self, job_id: str) -> Job | None:
        with self._lock:
            return self.jobs.get(job_id)

    def start(self, kind: str, work: Callable[[ProgressReporter], Any]) -> Job:
        """Run ``work`` in a thread; a use-case error is the job's message, in the user's
        language (the case lock and the transaction decide what two jobs may do at once)."""
        job = Job(uuid.uuid4().hex, kind)
        with self._lock:
            self.jobs[job.job_id] = job

        def run() -> None:
            try:
                result = work(JobProgress(job))
            except ForensicError as exc:
                with job._lock:
                    job.state, job.error = "failed", exc.diagnostics(self.lang())
                return
            except Exception as exc:  # shown as its kind only: the message may name evidence
                with job._lock:
                    job.state, job.error = "failed", type(exc).__name__
                return
            with job._lock:
                job.state, job.result = "done", result

        threading.Thread(target=run, name=f"forensic-app-{kind}", daemon=True).start()
        return job
