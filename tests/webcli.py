"""The real ``forensic capture`` verb for web addresses and ``--screen``, in process."""

from __future__ import annotations

import os

from typer.testing import CliRunner

from tests.conftest import CliResult


def run_capture(*args: str | os.PathLike[str]) -> CliResult:
    from forensic.cli import app

    result = CliRunner().invoke(app, ["capture", *[os.fspath(a) for a in args]])
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return CliResult(result.exit_code, result.stdout, result.stderr)
