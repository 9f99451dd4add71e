"""The application layer: one function per use case a person performs.

Every front end (the CLI in :mod:`forensic.cli`, the local app, remote workers' coordinator) calls
these functions and nothing below them for anything that changes a case. Each use case takes an
explicit :class:`forensic.session.Session` and plain arguments, reports progress through an
injected :class:`forensic.progress.ProgressReporter`, raises :class:`forensic.errors.ForensicError`
subclasses (never prints, prompts or exits) and returns a frozen dataclass whose ``as_dict()`` is
the documented ``--json`` document (``docs/json-output.md``).

Modules are imported by the front end that needs them (``from forensic.service import capture``),
so a command pays only for the libraries its use case loads.
"""
