"""forensic: preserve digital evidence so that it holds up in court.

The package is a library; the command line lives in :mod:`forensic.cli`.
"""

__version__ = "0.1.0"
TOOL_NAME = "forensic"
