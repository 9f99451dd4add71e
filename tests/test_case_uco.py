"""The export's ``case-uco.jsonld`` against the CASE project's own SHACL validator
(``case_validate`` from ``case-utils``, run as a child process): a case with chats and photos
conforms with no warning and no note, and a graph broken the way older exports were does not."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from forensic.case import Case
from tests.conftest import Cli
from tests.test_timeline_export import build_case, transcript_messages

rdflib = pytest.importorskip("rdflib")
pytest.importorskip("case_utils")

UCO = "https://ontology.unifiedcyberontology.org/uco/"
OBS = rdflib.Namespace(UCO + "observable/")
CORE = rdflib.Namespace(UCO + "core/")
TYPES = rdflib.Namespace(UCO + "types/")
CO = rdflib.Namespace("http://purl.org/co/")
UUID_END = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def case_validate(path: Path) -> subprocess.Popen[str]:
    """The real validator (its console script's entry point), against the CASE release it
    ships (its default); started, not waited for, so that two runs share the two cores."""
    code = "import sys; from case_utils.case_validate import main; sys.exit(main())"
    return subprocess.Popen(
        [sys.executable, "-c", code, str(path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def finished(proc: subprocess.Popen[str]) -> tuple[int, str]:
    out, err = proc.communicate(timeout=300)
    return proc.returncode, out + err


def export_bag(cli: Cli, case_dir: Path, out: Path) -> Path:
    res = cli("export", "--case", case_dir, "--out", out)
    assert res.exit_code == 0, res.stdout + res.stderr
    return out / "data" / "case-uco.jsonld"


def test_case_validate_passes_with_chats_and_photos_and_fails_a_broken_graph(
    cli: Cli, case_dir: Path, tmp_path: Path
) -> None:
    build_case(cli, case_dir, tmp_path)
    uco = export_bag(cli, case_dir, tmp_path / "bag")
    good = case_validate(uco)
    # A graph as older exports wrote it (hashMethod typed as the vocabulary), and with a thread
    # holding a file where a message belongs, must fail.
    broken = tmp_path / "broken.jsonld"
    text = uco.read_text("utf-8")
    typed = json.dumps({"@type": UCO + "vocabulary/HashNameVocab", "@value": "SHA256"})
    text = text.replace('"uco-types:hashMethod":"SHA256"', f'"uco-types:hashMethod":{typed}', 1)
    first_message = '"co:element":[\n{"@id":"kb:Message-'
    assert first_message in text
    text = text.replace(first_message, first_message.replace("[\n", '[{"@id":"kb:File-0"},'), 1)
    broken.write_text(text, "utf-8")
    bad = case_validate(broken)
    code, report = finished(good)
    assert code == 0 and "Conforms: True" in report, report[-3000:]
    assert "Severity" not in report, report[-3000:]  # no violation, no warning, no note
    code, report = finished(bad)
    assert code != 0 and "Conforms: False" in report, report[-2000:]
    assert "hashMethod should be xsd:string" in report and "sh:Violation" in report

    graph = rdflib.Graph()
    graph.parse(uco, format="json-ld")
    subjects = {s for s in graph.subjects() if isinstance(s, rdflib.URIRef)}
    assert subjects and all(UUID_END.search(str(s)) for s in subjects)
    # Every transcript message is a Message in its chat's Thread, with its id, text and time.
    messages = transcript_messages(case_dir)
    found: dict[str, dict[str, Any]] = {}
    for msg in graph.subjects(rdflib.RDF.type, OBS.Message):
        [facet] = list(graph.objects(msg, CORE.hasFacet))
        [thread] = list(graph.subjects(CO.element, msg))
        assert (thread, rdflib.RDF.type, TYPES.Thread) in graph
        ref = str(graph.value(msg, CORE.description)).removeprefix("Message ")
        found[ref] = {
            "id": str(graph.value(facet, OBS.messageID)),
            "text": graph.value(facet, OBS.messageText),
            "sent": graph.value(facet, OBS.sentTime),
            "from": graph.value(facet, OBS["from"]),
            "thread": thread,
        }
    assert set(found) == set(messages)
    for ref, msg in messages.items():
        assert found[ref]["id"] == msg["id"]
        assert str(found[ref]["text"] or "") == msg["text"]
        if msg["date"].get("utc"):
            assert (
                found[ref]["sent"].toPython().isoformat().replace("+00:00", "Z")
                == (msg["date"]["utc"])
            )
        sender = found[ref]["from"]
        if msg["sender"]["name"]:
            assert (sender, rdflib.RDF.type, OBS.ApplicationAccount) in graph
    # Each chat is a MessageThread pointing at its Thread; it is contained in its export file.
    threads = list(graph.subjects(rdflib.RDF.type, OBS.MessageThread))
    assert {str(graph.value(t, CORE.name)) for t in threads} == {"Group A", "홍길동"}
    items = Case.open(case_dir).items()
    for thread in threads:
        [facet] = list(graph.objects(thread, CORE.hasFacet))
        assert graph.value(facet, OBS.messageThread) in {m["thread"] for m in found.values()}
        [rel] = list(graph.subjects(CORE.source, thread))
        assert str(graph.value(rel, CORE.kindOfRelationship)) == "Contained_Within"
    # The Telegram photo is attached to its message.
    attached = [
        r
        for r in graph.subjects(CORE.kindOfRelationship, rdflib.Literal("Attachment_Of"))
        if (graph.value(r, CORE.target), rdflib.RDF.type, OBS.Message) in graph
    ]
    assert attached and len(items) == 4  # the Telegram photo is also photos/a.jpg

    # The same case exported again names the same nodes (UUIDv5 from the case and object).
    again = rdflib.Graph()
    again.parse(export_bag(cli, case_dir, tmp_path / "bag2"), format="json-ld")
    assert set(again.subjects(rdflib.RDF.type, OBS.Message)) == set(
        graph.subjects(rdflib.RDF.type, OBS.Message)
    )
