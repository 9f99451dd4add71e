"""Old import path of :mod:`forensic.mediatype`, kept while capture modules still import it."""

from forensic.mediatype import DETECTOR, sniff

__all__ = ["DETECTOR", "sniff"]
