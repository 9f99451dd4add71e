"""The ``forensic`` command line (typer + rich). The only package that prints or exits."""

from forensic.cli import app_verbs as _app_verbs  # noqa: F401  (registers `app`)
from forensic.cli import capture_verbs as _capture_verbs  # noqa: F401  (registers `capture`)
from forensic.cli import case_verbs as _case_verbs  # noqa: F401  (init, recover, note, key, demo)
from forensic.cli import chat_verbs as _chat_verbs  # noqa: F401  (mark, unmark, chat show/marks)
from forensic.cli import cluster_verbs as _cluster_verbs  # noqa: F401  (cluster certs/scheduler/worker)
from forensic.cli import compare_verbs as _compare_verbs  # noqa: F401  (registers `compare`)
from forensic.cli import crypt_verbs as _crypt_verbs  # noqa: F401  (encrypt, share)
from forensic.cli import custody_verbs as _custody_verbs  # noqa: F401  (handover, receive)
from forensic.cli import export_verbs  # noqa: F401  (registers the `export` verb)
from forensic.cli import match_verbs as _match_verbs  # noqa: F401  (registers `match`)
from forensic.cli import media_verbs as _media_verbs  # noqa: F401  (registers `analyze`)
from forensic.cli import read_verbs as _read_verbs  # noqa: F401  (list, log, show)
from forensic.cli import report_verbs as _report_verbs  # noqa: F401  (registers `report`)
from forensic.cli import search_verbs as _search_verbs  # noqa: F401  (search, ocr verbs)
from forensic.cli import timestamp_verbs as _timestamp_verbs  # noqa: F401  (registers verbs)
from forensic.cli import verify_verbs as _verify_verbs  # noqa: F401  (registers `verify`)
from forensic.cli import watch_verbs as _watch_verbs  # noqa: F401  (watch, takedown)
from forensic.cli.app import app, main

__all__ = ["app", "main"]
