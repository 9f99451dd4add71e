"""Shared fixtures: an isolated examiner home, the CLI in process, an initialised case."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner

from forensic.cli import app
from forensic.session import Session

REPO = Path(__file__).resolve().parent.parent
SHARED_DATASETS = REPO.parent / "shared" / "datasets"
PASSPHRASE = "correct horse battery staple"
# Every command is its own session and unlocks the examiner key afresh: keys the tests create
# use a cheap Argon2id memory cost (the demo and users keep RFC 9106's 64 MiB profile).
os.environ.setdefault("FORENSIC_ARGON2_MEMORY_KIB", "1024")


@pytest.fixture(autouse=True)
def forensic_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own examiner key home and never sees the user's real one."""
    home = tmp_path / "examiner-home"
    monkeypatch.setenv("FORENSIC_HOME", str(home))
    monkeypatch.setenv("FORENSIC_PASSPHRASE", PASSPHRASE)
    monkeypatch.setenv("FORENSIC_LANG", "en")
    monkeypatch.setenv("FORENSIC_LOCK_TIMEOUT", "1")
    monkeypatch.delenv("FORENSIC_CASE", raising=False)
    return home


def examiner_session(home: Path | None = None) -> Session:
    """A library session for the test examiner (``FORENSIC_HOME`` unless ``home``)."""
    session = Session.default(passphrase_provider=lambda _new: PASSPHRASE)
    if home is not None:
        session.home = home
    return session


@dataclass
class CliResult:
    exit_code: int
    stdout: str
    stderr: str


class Cli:
    """Runs ``forensic`` in process with typer's CliRunner."""

    def __init__(self) -> None:
        self.runner = CliRunner()

    def __call__(self, *args: str | os.PathLike[str], input: str | None = None) -> CliResult:
        result = self.runner.invoke(app, [os.fspath(a) for a in args], input=input)
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            raise result.exception
        return CliResult(result.exit_code, result.stdout, result.stderr)


@pytest.fixture
def cli() -> Cli:
    return Cli()


@pytest.fixture
def case_dir(tmp_path: Path, cli: Cli) -> Path:
    path = tmp_path / "case"
    res = cli("init", path, "--case-id", "T-1", "--title", "Test case", "--examiner", "Examiner")
    assert res.exit_code == 0, res.stderr
    return path


def run_forensic(
    *args: str | os.PathLike[str], env: dict[str, str] | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """The real console entry point in a child process (for kill and crash tests)."""
    full_env = {**os.environ, **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "forensic", *[os.fspath(a) for a in args]],
        capture_output=True,
        text=True,
        env=full_env,
        timeout=timeout,
        check=False,
    )


@pytest.fixture
def shared_datasets() -> Iterator[Path]:
    if not SHARED_DATASETS.is_dir():
        pytest.skip(
            f"reference data not found at {SHARED_DATASETS} (needs ../shared beside the repo)"
        )
    yield SHARED_DATASETS
