"""The case as CASE 1.x / UCO 1.x JSON-LD (``data/case-uco.jsonld`` of an export bag).

Each evidence item is a ``uco-observable:File`` whose ``ContentDataFacet`` carries every hash the
custody log recorded; each capture, verify, timestamp and export is a
``case-investigation:InvestigativeAction`` (performer: the examiner, instrument: this tool);
each item has a ``case-investigation:ProvenanceRecord`` with its exhibit number.
"""

from __future__ import annotations

import json
import uuid
from types import MappingProxyType
from typing import Any

from forensic import TOOL_NAME, __version__
from forensic.case.case import Case, Item
from forensic.custody.log import CustodyEntry
from forensic.store import ItemId

UCO = "https://ontology.unifiedcyberontology.org/uco/"
CONTEXT = MappingProxyType(
    {
        "kb": "urn:forensic:",
        "case-investigation": "https://ontology.caseontology.org/case/investigation/",
        "uco-action": UCO + "action/",
        "uco-core": UCO + "core/",
        "uco-identity": UCO + "identity/",
        "uco-observable": UCO + "observable/",
        "uco-tool": UCO + "tool/",
        "uco-types": UCO + "types/",
        "uco-vocabulary": UCO + "vocabulary/",
        "xsd": "http://www.w3.org/2001/XMLSchema#",
    }
)
HASH_NAMES = MappingProxyType(
    {"md5": "MD5", "sha1": "SHA1", "sha256": "SHA256", "sha512": "SHA512"}
)
ACTIONS = frozenset({"capture", "verify", "timestamp", "export", "init"})


def _id(case_id: str, kind: str, key: str) -> str:
    """Stable identifiers: the same case exported twice names the same nodes."""
    return f"kb:{kind}-{uuid.uuid5(uuid.NAMESPACE_URL, f'forensic:{case_id}:{kind}:{key}')}"


def _ref(node_id: str) -> dict[str, str]:
    return {"@id": node_id}


def _time(value: str) -> dict[str, str]:
    return {"@type": "xsd:dateTime", "@value": value}


def exhibit_number(case_id: str, n: int) -> str:
    return f"{case_id}-{n:03d}"


def _hashes(hashes: dict[str, str], sha256: str) -> list[dict[str, Any]]:
    values = {**hashes, "sha256": sha256}
    out = []
    for name in sorted(values):
        label = HASH_NAMES.get(name.lower())
        if label is None:
            continue
        out.append(
            {
                "@id": f"kb:hash-{name.lower()}-{values[name]}",
                "@type": "uco-types:Hash",
                "uco-types:hashMethod": {"@type": "uco-vocabulary:HashNameVocab", "@value": label},
                "uco-types:hashValue": {"@type": "xsd:hexBinary", "@value": values[name]},
            }
        )
    return out


def _file_node(
    case_id: str,
    key: str,
    name: str,
    size: int,
    sha256: str,
    hashes: dict[str, str],
    media_type: str | None,
    description: str,
) -> dict[str, Any]:
    content: dict[str, Any] = {
        "@id": _id(case_id, "content-facet", key),
        "@type": "uco-observable:ContentDataFacet",
        "uco-observable:sizeInBytes": {"@type": "xsd:integer", "@value": str(size)},
        "uco-observable:hash": _hashes(hashes, sha256),
    }
    if media_type:
        content["uco-observable:mimeType"] = media_type
    return {
        "@id": _id(case_id, "file", key),
        "@type": "uco-observable:File",
        "uco-core:description": description,
        "uco-core:hasFacet": [
            {
                "@id": _id(case_id, "file-facet", key),
                "@type": "uco-observable:FileFacet",
                "uco-observable:fileName": name,
                "uco-observable:sizeInBytes": {"@type": "xsd:integer", "@value": str(size)},
            },
            content,
        ],
    }


def build_uco(
    case: Case,
    entries: list[CustodyEntry],
    items: dict[ItemId, Item],
    files: dict[str, dict[str, Any]],
    *,
    export_started: str,
    destination: str,
) -> dict[str, Any]:
    """The JSON-LD document for ``entries`` (the log up to the entry before this export)."""
    cid = case.info.case_id
    examiner_id = _id(cid, "examiner", case.info.public_key_fingerprint)
    tool_id = _id(cid, "tool", f"{TOOL_NAME}-{__version__}")
    investigation_id = _id(cid, "investigation", cid)
    graph: list[dict[str, Any]] = [
        {
            "@id": examiner_id,
            "@type": "uco-identity:Person",
            "uco-core:name": case.info.examiner,
            "uco-core:description": (
                f"Examiner; Ed25519 key SHA-256 fingerprint {case.info.public_key_fingerprint}"
            ),
        },
        {
            "@id": tool_id,
            "@type": "uco-tool:Tool",
            "uco-core:name": TOOL_NAME,
            "uco-tool:version": __version__,
            "uco-tool:toolType": "forensic evidence preservation",
        },
    ]
    if case.info.organisation:
        graph.append(
            {
                "@id": _id(cid, "organisation", case.info.organisation),
                "@type": "uco-identity:Organization",
                "uco-core:name": case.info.organisation,
            }
        )
    file_ids: dict[str, str] = {}
    records: list[str] = []
    for n, item in enumerate(items.values(), start=1):
        first = item.acquisitions[0]
        name = first.source_path.rsplit("/", 1)[-1] or item.item_id
        node = _file_node(
            cid,
            item.item_id,
            name,
            item.size,
            item.item_id,
            item.hashes,
            item.media_type,
            f"Evidence item {exhibit_number(cid, n)}, stored as {item.object_path}",
        )
        graph.append(node)
        file_ids[item.item_id] = node["@id"]
        record_id = _id(cid, "provenance", item.item_id)
        records.append(record_id)
        graph.append(
            {
                "@id": record_id,
                "@type": "case-investigation:ProvenanceRecord",
                "case-investigation:exhibitNumber": exhibit_number(cid, n),
                "uco-core:description": (
                    f"Acquired {len(item.acquisitions)} time(s); custody log entries "
                    + ", ".join(str(a.seq) for a in item.acquisitions)
                ),
                "uco-core:object": [_ref(node["@id"])],
            }
        )
    case_file_ids: dict[str, str] = {}
    for rel, record in sorted(files.items()):
        node = _file_node(
            cid,
            f"case-file:{rel}",
            rel,
            int(record.get("size", 0)),
            str(record.get("sha256", "")),
            {},
            None,
            f"Case file {rel}, vouched for by custody log entry {record.get('seq')}",
        )
        graph.append(node)
        case_file_ids[rel] = node["@id"]
    actions: list[str] = []
    for entry in entries:
        if entry.action not in ACTIONS:
            continue
        node = _action_node(cid, entry, examiner_id, tool_id, file_ids, case_file_ids, items)
        graph.append(node)
        actions.append(node["@id"])
    this_export = _id(cid, "action", f"export-{export_started}")
    graph.append(
        {
            "@id": this_export,
            "@type": "case-investigation:InvestigativeAction",
            "uco-core:name": "export",
            "uco-core:description": (
                f"This export to {destination}; its custody log entry follows the log head "
                "stated in bag-info.txt (Forensic-Log-Head)"
            ),
            "uco-action:performer": _ref(examiner_id),
            "uco-action:instrument": _ref(tool_id),
            "uco-action:object": [_ref(i) for i in file_ids.values()],
            "uco-action:startTime": _time(export_started),
        }
    )
    actions.append(this_export)
    graph.append(
        {
            "@id": investigation_id,
            "@type": "case-investigation:Investigation",
            "uco-core:name": cid,
            "uco-core:description": case.info.title,
            "uco-core:object": [_ref(i) for i in [*records, *actions]],
        }
    )
    return {"@context": dict(CONTEXT), "@graph": graph}


def _action_node(
    cid: str,
    entry: CustodyEntry,
    examiner_id: str,
    tool_id: str,
    file_ids: dict[str, str],
    case_file_ids: dict[str, str],
    items: dict[ItemId, Item],
) -> dict[str, Any]:
    d = entry.details
    start = str(d.get("acquired") or d.get("started") or entry.time)
    end = str(d.get("acquired_end") or d.get("finished") or entry.time)
    objects: list[str] = []
    results: list[str] = []
    description = f"Custody log entry {entry.seq} ({entry.action}), line SHA-256 {entry.hash}"
    if entry.action == "capture":
        item_id = str(d.get("item", {}).get("sha256", ""))
        if item_id in file_ids:
            results.append(file_ids[item_id])
            results.append(_id(cid, "provenance", item_id))
        source = d.get("source", {}).get("path")
        if source:
            description += f"; source {source}"
    elif entry.action == "verify":
        objects.extend(file_ids[i] for i in items if i in file_ids)
        description += f"; intact={d.get('intact')}"
    elif entry.action == "export":
        objects.extend(file_ids[i] for i in items if i in file_ids)
        description += f"; destination {d.get('destination')}"
    for record in d.get("files", []) or []:
        if isinstance(record, dict) and str(record.get("path")) in case_file_ids:
            results.append(case_file_ids[str(record["path"])])
    node: dict[str, Any] = {
        "@id": _id(cid, "action", f"{entry.seq}-{entry.hash}"),
        "@type": "case-investigation:InvestigativeAction",
        "uco-core:name": entry.action,
        "uco-core:description": description,
        "uco-action:performer": _ref(examiner_id),
        "uco-action:instrument": _ref(tool_id),
        "uco-action:startTime": _time(start),
        "uco-action:endTime": _time(end),
    }
    if objects:
        node["uco-action:object"] = [_ref(i) for i in objects]
    if results:
        node["uco-action:result"] = [_ref(i) for i in results]
    return node


def uco_bytes(doc: dict[str, Any]) -> bytes:
    return json.dumps(doc, indent=2, ensure_ascii=False, sort_keys=False).encode("utf-8") + b"\n"
