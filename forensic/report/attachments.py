"""The machine-readable twins of the report, attached to the PDF/A-3 (``AFRelationship
/Data``): every finding, every metadata record (positions and serial numbers included: they are
withheld from print only), the chat excerpts, and the whole custody log as signed.

The printed body stays short; an investigator or a defence expert reads the detail here.
"""

from __future__ import annotations

import json
from typing import Any

from forensic.report.model import ReportData

FINDINGS_NAME = "findings.json"
METADATA_NAME = "metadata.json"
CHATS_NAME = "chat-excerpts.json"
LOG_NAME = "custody-log.jsonl"


def _json(doc: Any) -> bytes:
    return json.dumps(doc, indent=1, ensure_ascii=False, default=str).encode("utf-8")


def attachments(data: ReportData) -> dict[str, bytes]:
    """File name -> bytes of each attached file (the case manifest is attached separately)."""
    findings = {d.sha256: {name: doc for name, doc in d.findings} for d in data.items if d.findings}
    metadata = {d.sha256: d.metadata for d in data.items if d.metadata is not None}
    log = b"".join(e.line if e.line.endswith(b"\n") else e.line + b"\n" for e in data.entries)
    return {
        FINDINGS_NAME: _json({"format": "forensic-report-findings", "v": 1, "items": findings}),
        METADATA_NAME: _json({"format": "forensic-report-metadata", "v": 1, "items": metadata}),
        CHATS_NAME: _json(
            {"format": "forensic-report-chats", "v": 1, "chats": [c.as_dict() for c in data.chats]}
        ),
        LOG_NAME: log,
    }
