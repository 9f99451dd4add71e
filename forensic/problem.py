"""The unit of a verification's findings, shared by the checks of every area.

Its own module: :mod:`forensic.verify` runs the checks of :mod:`forensic.timestamp` (and others),
and those checks report in this type without importing the package that runs them.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One thing that does not verify, with where it is."""

    area: str  # key | log | object | file | interrupted | timestamp | report
    kind: str
    location: str
    detail: str = ""

    def as_dict(self) -> dict[str, str]:
        return {
            "area": self.area,
            "kind": self.kind,
            "location": self.location,
            "detail": self.detail,
        }
