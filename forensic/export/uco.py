"""The case as CASE/UCO JSON-LD (``data/case-uco.jsonld`` of an export bag), conforming to the
CASE release that the CASE project's validator (``case_validate``) ships.

Each evidence item is a ``uco-observable:File`` whose ``ContentDataFacet`` carries every hash the
custody log recorded; each capture, verify, timestamp and export is a
``case-investigation:InvestigativeAction`` (performer: the examiner, instrument: this tool);
each item has a ``case-investigation:ProvenanceRecord`` with its exhibit number. Each chat of a
transcript is a ``uco-observable:MessageThread`` whose ``types:Thread`` holds its messages
(``uco-observable:Message`` with a ``MessageFacet``), senders are ``ApplicationAccount`` nodes.

Identifiers end in a UUIDv5, so the same case exported twice names the same nodes: objects from
the case id and what they are, facets and hashes by the CASE project's inherence rules
(``case_utils.inherent_uuid``: a facet from its object's UUID and class IRI, a hash from
``urn:hash::<method>:<value>``). The document is written as a stream, one node per line, so a
chat of 60,000 messages never sits in memory. See decision 0018 and docs/format.md §14.3.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from forensic import TOOL_NAME, __version__
from forensic.case.case import Case, Item
from forensic.custody.log import CustodyEntry
from forensic.export.transcript_stream import (
    ChatMessage,
    TranscriptHeader,
    TranscriptSource,
    iter_messages,
    message_ref,
    read_chats,
    read_header,
)
from forensic.store import ItemId

UCO = "https://ontology.unifiedcyberontology.org/uco/"
CONTEXT = MappingProxyType(
    {
        "kb": "urn:forensic:",
        "case-investigation": "https://ontology.caseontology.org/case/investigation/",
        "co": "http://purl.org/co/",
        "uco-action": UCO + "action/",
        "uco-core": UCO + "core/",
        "uco-identity": UCO + "identity/",
        "uco-observable": UCO + "observable/",
        "uco-tool": UCO + "tool/",
        "uco-types": UCO + "types/",
        "xsd": "http://www.w3.org/2001/XMLSchema#",
    }
)
HASH_NAMES = MappingProxyType(
    {"md5": "MD5", "sha1": "SHA1", "sha256": "SHA256", "sha512": "SHA512"}
)
ACTIONS = frozenset({"capture", "verify", "timestamp", "export", "init"})
APPS = MappingProxyType({"telegram": "Telegram", "kakaotalk": "KakaoTalk"})


def _expand(curie: str) -> str:
    prefix, _, local = curie.partition(":")
    return str(CONTEXT.get(prefix, prefix + ":")) + local


class _Ids:
    """UUIDv5 identifiers under one namespace per case (``urn:forensic:case:<case id>``)."""

    def __init__(self, case_id: str) -> None:
        self.namespace = uuid.uuid5(uuid.NAMESPACE_URL, f"urn:forensic:case:{case_id}")

    def node(self, cls: str, key: str) -> str:
        """``kb:<Class>-<UUIDv5>`` for the object of class ``cls`` known by ``key``."""
        local = cls.rpartition(":")[2]
        return f"kb:{local}-{uuid.uuid5(self.namespace, f'{local}:{key}')}"

    @staticmethod
    def facet(object_id: str, facet_class: str) -> str:
        """A facet's id from its object's UUID and the facet class IRI (CASE inherence)."""
        owner = uuid.UUID(object_id[-36:])
        local = facet_class.rpartition(":")[2]
        return f"kb:{local}-{uuid.uuid5(owner, _expand(facet_class))}"


def _hash_id(method: str, value: str) -> str:
    """A hash is wholly given by method and value (CASE: ``urn:hash::sha256:<hex>``)."""
    return f"kb:Hash-{uuid.uuid5(uuid.NAMESPACE_URL, f'urn:hash::{method}:{value.lower()}')}"


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
        if label is None or not values[name]:
            continue
        out.append(
            {
                "@id": _hash_id(name.lower(), values[name]),
                "@type": "uco-types:Hash",
                "uco-types:hashMethod": label,
                "uco-types:hashValue": {"@type": "xsd:hexBinary", "@value": values[name]},
            }
        )
    return out


def _file_node(
    node_id: str,
    name: str,
    size: int,
    sha256: str,
    hashes: dict[str, str],
    media_type: str | None,
    description: str,
) -> dict[str, Any]:
    content: dict[str, Any] = {
        "@id": _Ids.facet(node_id, "uco-observable:ContentDataFacet"),
        "@type": "uco-observable:ContentDataFacet",
        "uco-observable:sizeInBytes": {"@type": "xsd:integer", "@value": str(size)},
        "uco-observable:hash": _hashes(hashes, sha256),
    }
    if media_type:
        content["uco-observable:mimeType"] = media_type
    return {
        "@id": node_id,
        "@type": "uco-observable:File",
        "uco-core:description": description,
        "uco-core:hasFacet": [
            {
                "@id": _Ids.facet(node_id, "uco-observable:FileFacet"),
                "@type": "uco-observable:FileFacet",
                "uco-observable:fileName": name,
                "uco-observable:sizeInBytes": {"@type": "xsd:integer", "@value": str(size)},
            },
            content,
        ],
    }


@dataclass(frozen=True)
class ChatInput:
    """A transcript to describe, read from the bag's own (already verified) copy."""

    source: TranscriptSource
    path: Path

    def open(self) -> Any:
        return self.path.open("rb")


@dataclass
class _Graph:
    """What later nodes refer to, gathered while the earlier ones are written."""

    case: Case
    ids: _Ids
    examiner: str
    tool: str
    file_ids: dict[str, str] = field(default_factory=dict)
    case_file_ids: dict[str, str] = field(default_factory=dict)
    objects: list[str] = field(default_factory=list)
    """Provenance records, threads and actions the investigation lists."""


def uco_chunks(
    case: Case,
    entries: list[CustodyEntry],
    items: dict[ItemId, Item],
    files: dict[str, dict[str, Any]],
    *,
    export_started: str,
    destination: str,
    chats: Sequence[ChatInput] = (),
) -> Iterator[bytes]:
    """The JSON-LD document for ``entries`` (the log up to the entry before this export), as
    UTF-8 pieces: ``@context``, then one ``@graph`` node per line."""
    cid = case.info.case_id
    ids = _Ids(cid)
    graph = _Graph(
        case,
        ids,
        ids.node("uco-identity:Person", case.info.public_key_fingerprint),
        ids.node("uco-tool:Tool", f"{TOOL_NAME}-{__version__}"),
    )
    yield ('{\n"@context": ' + json.dumps(dict(CONTEXT)) + ',\n"@graph": [\n').encode("utf-8")
    first = True
    for piece in _pieces(graph, entries, items, files, export_started, destination, chats):
        if isinstance(piece, dict):
            text = ("" if first else ",\n") + _dumps(piece)
            first = False
        else:
            text = piece.lstrip(",\n") if first else piece
            first = False
        yield text.encode("utf-8")
    yield b"\n]\n}\n"


def _dumps(node: dict[str, Any]) -> str:
    return json.dumps(node, ensure_ascii=False, separators=(",", ":"))


def _pieces(
    graph: _Graph,
    entries: list[CustodyEntry],
    items: dict[ItemId, Item],
    files: dict[str, dict[str, Any]],
    export_started: str,
    destination: str,
    chats: Sequence[ChatInput],
) -> Iterator[dict[str, Any] | str]:
    yield from _people(graph)
    yield from _items(graph, items, files)
    for chat in chats:
        yield from _chat_nodes(graph, chat)
    for entry in entries:
        if entry.action in ACTIONS:
            node = _action_node(graph, entry, items)
            graph.objects.append(node["@id"])
            yield node
    this_export = graph.ids.node(
        "case-investigation:InvestigativeAction", f"export-{export_started}"
    )
    yield {
        "@id": this_export,
        "@type": "case-investigation:InvestigativeAction",
        "uco-core:name": "export",
        "uco-core:description": (
            f"This export to {destination}; its custody log entry follows the log head "
            "stated in bag-info.txt (Forensic-Log-Head)"
        ),
        "uco-action:performer": _ref(graph.examiner),
        "uco-action:instrument": _ref(graph.tool),
        "uco-action:object": [_ref(i) for i in graph.file_ids.values()],
        "uco-action:startTime": _time(export_started),
    }
    graph.objects.append(this_export)
    cid = graph.case.info.case_id
    yield {
        "@id": graph.ids.node("case-investigation:Investigation", cid),
        "@type": "case-investigation:Investigation",
        "uco-core:name": cid,
        "uco-core:description": graph.case.info.title,
        "uco-core:object": [_ref(i) for i in graph.objects],
    }


def _people(graph: _Graph) -> Iterator[dict[str, Any]]:
    info = graph.case.info
    yield {
        "@id": graph.examiner,
        "@type": "uco-identity:Person",
        "uco-core:name": info.examiner,
        "uco-core:description": (
            f"Examiner; Ed25519 key SHA-256 fingerprint {info.public_key_fingerprint}"
        ),
    }
    yield {
        "@id": graph.tool,
        "@type": "uco-tool:Tool",
        "uco-core:name": TOOL_NAME,
        "uco-tool:version": __version__,
        "uco-tool:toolType": "forensic evidence preservation",
    }
    if info.organisation:
        yield {
            "@id": graph.ids.node("uco-identity:Organization", info.organisation),
            "@type": "uco-identity:Organization",
            "uco-core:name": info.organisation,
        }


def _items(
    graph: _Graph, items: dict[ItemId, Item], files: dict[str, dict[str, Any]]
) -> Iterator[dict[str, Any]]:
    cid = graph.case.info.case_id
    for n, item in enumerate(items.values(), start=1):
        first = item.acquisitions[0]
        name = first.source_path.rsplit("/", 1)[-1] or item.item_id
        node_id = graph.ids.node("uco-observable:File", item.item_id)
        yield _file_node(
            node_id,
            name,
            item.size,
            item.item_id,
            item.hashes,
            item.media_type,
            f"Evidence item {exhibit_number(cid, n)}, stored as {item.object_path}",
        )
        graph.file_ids[item.item_id] = node_id
        record_id = graph.ids.node("case-investigation:ProvenanceRecord", item.item_id)
        graph.objects.append(record_id)
        yield {
            "@id": record_id,
            "@type": "case-investigation:ProvenanceRecord",
            "case-investigation:exhibitNumber": exhibit_number(cid, n),
            "uco-core:description": (
                f"Acquired {len(item.acquisitions)} time(s); custody log entries "
                + ", ".join(str(a.seq) for a in item.acquisitions)
            ),
            "uco-core:object": [_ref(node_id)],
        }
    for rel, record in sorted(files.items()):
        node_id = graph.ids.node("uco-observable:File", f"case-file:{rel}")
        yield _file_node(
            node_id,
            rel,
            int(record.get("size", 0)),
            str(record.get("sha256", "")),
            {},
            None,
            f"Case file {rel}, vouched for by custody log entry {record.get('seq')}",
        )
        graph.case_file_ids[rel] = node_id


def _action_node(graph: _Graph, entry: CustodyEntry, items: dict[ItemId, Item]) -> dict[str, Any]:
    d = entry.details
    start = str(d.get("acquired") or d.get("started") or entry.time)
    end = str(d.get("acquired_end") or d.get("finished") or entry.time)
    objects: list[str] = []
    results: list[str] = []
    description = f"Custody log entry {entry.seq} ({entry.action}), line SHA-256 {entry.hash}"
    if entry.action == "capture":
        item_id = str(d.get("item", {}).get("sha256", ""))
        if item_id in graph.file_ids:
            results.append(graph.file_ids[item_id])
            results.append(graph.ids.node("case-investigation:ProvenanceRecord", item_id))
        source = d.get("source", {}).get("path")
        if source:
            description += f"; source {source}"
    elif entry.action in ("verify", "export"):
        objects.extend(graph.file_ids[i] for i in items if i in graph.file_ids)
        if entry.action == "verify":
            description += f"; intact={d.get('intact')}"
        else:
            description += f"; destination {d.get('destination')}"
    for record in d.get("files", []) or []:
        if isinstance(record, dict) and str(record.get("path")) in graph.case_file_ids:
            results.append(graph.case_file_ids[str(record["path"])])
    node: dict[str, Any] = {
        "@id": graph.ids.node(
            "case-investigation:InvestigativeAction", f"{entry.seq}-{entry.hash}"
        ),
        "@type": "case-investigation:InvestigativeAction",
        "uco-core:name": entry.action,
        "uco-core:description": description,
        "uco-action:performer": _ref(graph.examiner),
        "uco-action:instrument": _ref(graph.tool),
        "uco-action:startTime": _time(start),
        "uco-action:endTime": _time(end),
    }
    if objects:
        node["uco-action:object"] = [_ref(i) for i in objects]
    if results:
        node["uco-action:result"] = [_ref(i) for i in results]
    return node


# -- chats: threads, messages, accounts ---------------------------------------------------------
@dataclass
class _ChatState:
    """Per transcript: the accounts met (their nodes follow the threads) and media links."""

    header: TranscriptHeader
    app_id: str
    accounts: dict[str, dict[str, Any]] = field(default_factory=dict)
    attachments: list[tuple[str, str]] = field(default_factory=list)
    participants: dict[int, dict[str, None]] = field(default_factory=dict)


def _chat_nodes(graph: _Graph, chat: ChatInput) -> Iterator[dict[str, Any] | str]:
    """One thread per chat with its messages embedded (streamed), then the chat objects."""
    header = read_header(chat.open)
    chats = read_chats(chat.open, chat.source)
    app_name = APPS.get(header.app, header.app or "chat application")
    app_id = graph.ids.node("uco-observable:Application", header.app or "chat")
    state = _ChatState(header, app_id)
    yield {"@id": app_id, "@type": "uco-observable:Application", "uco-core:name": app_name}
    current = -2
    for found in iter_messages(chat.open, chat.source, chats):
        if found.chat_index != current:
            if current != -2:
                yield "]}"
            current = found.chat_index
            yield ",\n" + _dumps(_thread_head(graph, chat.source, current))[:-1]
            yield ',"co:element":[\n'
            state.participants.setdefault(current, {})
            first = True
        yield ("" if first else ",\n") + _dumps(_message_node(graph, chat.source, state, found))
        first = False
    if current != -2:
        yield "]}"
    for index, chat_meta in enumerate(chats):
        yield from _thread_objects(graph, chat.source, state, index, chat_meta)
    yield from state.accounts.values()
    for file_id, message_id in state.attachments:
        yield _relationship(graph, file_id, message_id, "Attachment_Of")


def _thread_ids(graph: _Graph, source: TranscriptSource, index: int) -> tuple[str, str]:
    key = f"{source.group}/{index}"
    return graph.ids.node("uco-observable:MessageThread", key), graph.ids.node(
        "uco-types:Thread", key
    )


def _thread_head(graph: _Graph, source: TranscriptSource, index: int) -> dict[str, Any]:
    _thread, ordered = _thread_ids(graph, source, index)
    return {"@id": ordered, "@type": "uco-types:Thread"}


def _account(graph: _Graph, state: _ChatState, group: str, sender: dict[str, Any]) -> str | None:
    name = sender.get("name")
    ident = sender.get("id")
    if not name and not ident:
        return None
    key = f"{state.header.app}:{ident}" if ident else f"{group}:name:{name}"
    account_id = graph.ids.node("uco-observable:ApplicationAccount", key)
    if account_id not in state.accounts:
        facets: list[dict[str, Any]] = [
            {
                "@id": _Ids.facet(account_id, "uco-observable:ApplicationAccountFacet"),
                "@type": "uco-observable:ApplicationAccountFacet",
                "uco-observable:application": _ref(state.app_id),
            }
        ]
        if ident:
            facets.append(
                {
                    "@id": _Ids.facet(account_id, "uco-observable:AccountFacet"),
                    "@type": "uco-observable:AccountFacet",
                    "uco-observable:accountIdentifier": str(ident),
                    "uco-observable:accountIssuer": _ref(state.app_id),
                }
            )
        if name:
            facets.append(
                {
                    "@id": _Ids.facet(account_id, "uco-observable:DigitalAccountFacet"),
                    "@type": "uco-observable:DigitalAccountFacet",
                    "uco-observable:displayName": str(name),
                }
            )
        state.accounts[account_id] = {
            "@id": account_id,
            "@type": "uco-observable:ApplicationAccount",
            "uco-core:description": "Chat sender as named in the export"
            + ("" if ident else " (no account id in the export: the same name may be another)"),
            "uco-core:hasFacet": facets,
        }
    return account_id


def _message_node(
    graph: _Graph, source: TranscriptSource, state: _ChatState, found: ChatMessage
) -> dict[str, Any]:
    msg = found.message
    ref = message_ref(source.group, found.chat_index, found.message_id)
    node_id = graph.ids.node("uco-observable:Message", ref)
    facet: dict[str, Any] = {
        "@id": _Ids.facet(node_id, "uco-observable:MessageFacet"),
        "@type": "uco-observable:MessageFacet",
        "uco-observable:messageID": found.message_id,
        "uco-observable:messageType": str(msg.get("kind") or "message"),
    }
    date = msg.get("date") if isinstance(msg.get("date"), dict) else {}
    if isinstance(date, dict) and isinstance(date.get("utc"), str) and date["utc"]:
        facet["uco-observable:sentTime"] = _time(date["utc"])
    sender = msg.get("sender")
    account = _account(graph, state, source.group, sender) if isinstance(sender, dict) else None
    if account is not None:
        facet["uco-observable:from"] = _ref(account)
        state.participants.setdefault(found.chat_index, {})[account] = None
    text = msg.get("text")
    if isinstance(text, str) and text:
        facet["uco-observable:messageText"] = text
    for media in msg.get("media") or []:
        sha = media.get("sha256") if isinstance(media, dict) else None
        if isinstance(sha, str) and sha in graph.file_ids:
            state.attachments.append((graph.file_ids[sha], node_id))
    return {
        "@id": node_id,
        "@type": "uco-observable:Message",
        "uco-core:description": f"Message {ref}",
        "uco-core:hasFacet": [facet],
    }


def _thread_objects(
    graph: _Graph,
    source: TranscriptSource,
    state: _ChatState,
    index: int,
    chat_meta: dict[str, Any],
) -> Iterator[dict[str, Any]]:
    thread_id, ordered = _thread_ids(graph, source, index)
    if index not in state.participants:  # a chat without messages: an empty thread
        yield {"@id": ordered, "@type": "uco-types:Thread"}
    graph.objects.append(thread_id)
    name = str(chat_meta.get("name") or f"chat {index}")
    facet: dict[str, Any] = {
        "@id": _Ids.facet(thread_id, "uco-observable:MessageThreadFacet"),
        "@type": "uco-observable:MessageThreadFacet",
        "uco-observable:messageThread": _ref(ordered),
    }
    participants = list(state.participants.get(index, {}))
    if participants:
        facet["uco-observable:participant"] = [_ref(p) for p in participants]
    yield {
        "@id": thread_id,
        "@type": "uco-observable:MessageThread",
        "uco-core:name": name,
        "uco-core:description": (
            f"Chat {index} of {source.path} ({state.header.source_format}), vouched for by "
            f"custody log entry {source.entry.seq}; messages are cited as "
            f"{source.group}/{index}/<message id>"
        ),
        "uco-core:hasFacet": [facet],
    }
    sha = state.header.export_file_sha256(chat_meta)
    for one in sha.split(";"):
        if one in graph.file_ids:
            yield _relationship(graph, thread_id, graph.file_ids[one], "Contained_Within")


def _relationship(graph: _Graph, source: str, target: str, kind: str) -> dict[str, Any]:
    return {
        "@id": graph.ids.node("uco-core:Relationship", f"{kind}:{source}:{target}"),
        "@type": "uco-core:Relationship",
        "uco-core:source": [_ref(source)],
        "uco-core:target": _ref(target),
        "uco-core:kindOfRelationship": kind,
        "uco-core:isDirectional": True,
    }


def uco_bytes(chunks: Iterator[bytes]) -> bytes:
    """The whole document at once (small cases, tests)."""
    return b"".join(chunks)
