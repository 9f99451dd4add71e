"""Chain of custody across people: victim → lawyer → police, each signing their own part.

One chain is built once through the real CLI with three examiner homes; every rejection is a
copy of it, made consistent again (every line after the change re-chained and re-signed by its
actor's real key, a bag resealed) so that only the party rules can catch it, and each checker
(``forensic verify``'s engine, the case ``verify.sh``, the bag ``verify.sh``) must.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from typer.testing import CliRunner

from forensic._internal.canonical import canonical_json
from forensic.case import Case
from forensic.cli import app
from forensic.custody.keys import fingerprint, public_key_pem, unlock_key
from forensic.verify import verify_case
from tests.conftest import PASSPHRASE, examiner_session

LOG = "custody/log.jsonl"
SIG = "custody/log.sig"


@dataclass(frozen=True)
class Chain:
    root: Path
    case: Path  # the police's case: the whole chain
    bag: Path  # the police's export of it
    victim_case: Path
    keys: dict[str, Ed25519PrivateKey]  # fingerprint -> private key, the three people
    homes: dict[str, Path]


def _run(home: Path, *args: str | os.PathLike[str], code: int = 0) -> str:
    env = {"FORENSIC_HOME": str(home), "FORENSIC_PASSPHRASE": PASSPHRASE, "FORENSIC_LANG": "en"}
    result = CliRunner().invoke(app, [os.fspath(a) for a in args], env=env)
    assert result.exit_code == code, (args, result.stdout, result.stderr)
    return result.stdout + result.stderr


def _copy(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst, symlinks=True)
    return dst


@pytest.fixture(scope="module")
def chain(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Chain]:
    root = tmp_path_factory.mktemp("chain")
    homes = {who: root / f"home-{who}" for who in ("victim", "lawyer", "police")}
    (root / "a.txt").write_bytes(b"screenshot of the abusive post\n")
    (root / "b.txt").write_bytes(b"the police's own download\n")
    victim_case = root / "victim-case"
    _run(
        homes["victim"],
        "init",
        victim_case,
        "--case-id",
        "P-1",
        "--title",
        "T",
        "--examiner",
        "Victim",
    )
    for who in ("lawyer", "police"):
        (root / f"{who}.pem").write_text(_run(homes[who], "key", "show", "--pem"))
    assert "BEGIN PUBLIC KEY" in (root / "police.pem").read_text()
    _run(homes["victim"], "capture", root / "a.txt", "--case", victim_case)
    _run(homes["victim"], "handover", "--case", victim_case, "--to", "Lawyer Kim",
         "--role", "counsel", "--org", "Law firm",
         "--recipient-key", root / "lawyer.pem")  # fmt: skip
    _run(homes["victim"], "export", "--case", victim_case, "--out", root / "to-lawyer")
    lawyer_case = root / "lawyer-case"
    _run(homes["lawyer"], "receive", root / "to-lawyer", "--into", lawyer_case)
    _run(homes["lawyer"], "note", "checked the hashes with the victim", "--case", lawyer_case)
    _run(homes["lawyer"], "handover", "--case", lawyer_case, "--to", "Officer Park",
         "--role", "police", "--recipient-key", root / "police.pem")  # fmt: skip
    police_case = _copy(lawyer_case, root / "police-case")
    before = (police_case / LOG).read_bytes()
    refused = _run(homes["police"], "note", "too early", "--case", police_case, code=2)
    assert "has not signed its receipt yet" in refused  # custody passes at the receipt
    assert (police_case / LOG).read_bytes() == before
    _run(homes["police"], "receive", police_case)
    _run(homes["police"], "capture", root / "b.txt", "--case", police_case)
    _run(homes["police"], "export", "--case", police_case, "--out", root / "police-bag")
    keys = {}
    for home in homes.values():
        key = unlock_key(home, PASSPHRASE)
        keys[key.fingerprint] = key.private
    yield Chain(root, police_case, root / "police-bag", victim_case, keys, homes)


def _sh(script: Path, folder: Path) -> tuple[int, str]:
    res = subprocess.run(["sh", str(script), str(folder)], capture_output=True, text=True,
                         timeout=120, check=False)  # fmt: skip
    return res.returncode, res.stdout + res.stderr


def _tool(case: Path, home: Path) -> list[dict[str, Any]]:
    report = verify_case(Case.open(case, examiner_session(home)))
    return [p.as_dict() for p in report.problems]


def test_three_people_chain_verifies_everywhere(chain: Chain, tmp_path: Path) -> None:
    out = _run(chain.homes["police"], "verify", "--case", chain.case, "--json")
    doc = json.loads(out)
    assert doc["intact"], doc["problems"]
    assert [p["role"] for p in doc["parties"]] == ["collector", "counsel", "police"]
    assert [h["received"] for h in doc["handovers"]] == [True, True]
    lines = [json.loads(x) for x in (chain.case / LOG).read_text().splitlines()]
    actions = [(x["action"], x["actor"][:8]) for x in lines]
    police = lines[-1]["actor"]  # the export's entry is not in the bag, but is in the case
    assert police in chain.keys and police != lines[0]["actor"]
    assert ("capture", police[:8]) in actions  # the police capture under their own key
    named = {x["details"].get("examiner") for x in lines if x["actor"] == police}
    assert named - {None} == {"Officer Park"}, named  # the entries name them, not the first one
    assert "Contact-Name: Officer Park" in (chain.bag / "bag-info.txt").read_text()
    receipts = [x for x in lines if x["action"] == "receipt"]
    # the lawyer's receipt names the bag received, as the victim's export entry does
    export = [json.loads(x) for x in (chain.victim_case / LOG).read_text().splitlines()][-1]
    assert receipts[0]["details"]["bag"]["manifest_sha256"] == export["details"]["manifest_sha256"]
    for receipt in receipts:  # a countersignature over the head the hand-over names
        handover = lines[receipt["details"]["handover"]["seq"]]
        assert receipt["details"]["head"] == handover["details"]["head"]
        assert receipt["actor"] == handover["details"]["to"]["fingerprint"]
    rc, text = _sh(chain.case / "verify.sh", chain.case)
    assert rc == 0 and text.rstrip().endswith("RESULT: intact"), text
    assert text.count(": received, receipt at") == 2 and "parties: 3" in text
    rc, text = _sh(chain.bag / "verify.sh", chain.bag)
    assert rc == 0 and "RESULT: intact" in text.splitlines()[-1], text
    assert text.count(": received, receipt at") == 2
    # The police machine pinned the lawyer's key: a case without that party is refused there.
    known = json.loads(next((chain.homes["police"] / "known-cases").iterdir()).read_text())
    lawyer = next(x["details"]["party"]["fingerprint"] for x in lines if x["action"] == "party-add")
    assert lawyer in known["parties"]
    # The victim's own copy: handed over, not received there (said, not a problem).
    rc, text = _sh(chain.victim_case / "verify.sh", chain.victim_case)
    assert rc == 0 and "NOT YET RECEIVED" in text, text
    shown = CliRunner().invoke(
        app, ["list", "--case", str(chain.victim_case)], env={"FORENSIC_HOME": str(tmp_path)}
    )
    assert "NOT YET RECEIVED" in shown.stdout + shown.stderr


# -- rejections ----------------------------------------------------------------------------------
Edit = Callable[[list[dict[str, Any]], dict[str, Ed25519PrivateKey]], set[int]]
"""Changes the parsed lines in place; returns the indexes whose old signature is kept."""


def _rewrite(root: Path, prefix: str, edit: Edit, keys: dict[str, Ed25519PrivateKey]) -> None:
    """Apply ``edit``, then re-chain every line (seq, prev) and re-sign each changed one with
    its actor's key (a line whose actor has no key here keeps its old signature)."""
    import base64

    log, sig = root / prefix / LOG, root / prefix / SIG
    old_lines = log.read_bytes().splitlines()
    old_sigs = sig.read_bytes().splitlines()
    objs = [json.loads(x) for x in old_lines]
    old_sig = {id(o): s.split(b" ", 1)[1] for o, s in zip(objs, old_sigs, strict=True)}
    unchanged = set(old_lines)
    keep = edit(objs, keys)
    prev = "0" * 64
    lines, sigs = [], []
    for n, obj in enumerate(objs):
        obj["seq"], obj["prev"] = n, prev
        line = canonical_json(obj)
        signer = keys.get(obj["actor"])
        if line in unchanged or n in keep or signer is None:
            signature = old_sig[id(obj)]
        else:
            signature = base64.b64encode(signer.sign(line))
        lines.append(line)
        sigs.append(b"%d %s" % (n, signature))
        prev = hashlib.sha256(line).hexdigest()
    for path, body in ((log, lines), (sig, sigs)):
        os.chmod(path, 0o600)
        path.write_bytes(b"".join(x + b"\n" for x in body))
    if prefix:
        _reseal(root, prev)


def _reseal(bag: Path, head: str) -> None:
    """Manifests and bag-info made to match the changed log (no key is needed for that)."""
    manifest = []
    total = count = 0
    for line in (bag / "manifest-sha256.txt").read_text().splitlines():
        rel = line[66:]
        body = (bag / rel).read_bytes()
        manifest.append(f"{hashlib.sha256(body).hexdigest()}  {rel}\n")
        total, count = total + len(body), count + 1
    info = (bag / "bag-info.txt").read_text().splitlines()
    fixed = {"Payload-Oxum": f"{total}.{count}", "Forensic-Log-Head": head}
    info = [f"{k}: {fixed[k]}" if (k := x.split(":", 1)[0]) in fixed else x for x in info]
    written = {"manifest-sha256.txt": "".join(manifest), "bag-info.txt": "\n".join(info) + "\n"}
    for name, text in written.items():
        os.chmod(bag / name, 0o600)
        (bag / name).write_text(text)
    tags = ("bagit.txt", "bag-info.txt", "manifest-sha256.txt", "verify.sh", "VERIFY.md")
    lines = "".join(f"{hashlib.sha256((bag / t).read_bytes()).hexdigest()}  {t}\n" for t in tags)
    os.chmod(bag / "tagmanifest-sha256.txt", 0o600)
    (bag / "tagmanifest-sha256.txt").write_text(lines)


def _index(objs: list[dict[str, Any]], action: str, nth: int = -1) -> int:
    return [i for i, x in enumerate(objs) if x["action"] == action][nth]


def _attacker() -> tuple[str, Ed25519PrivateKey, str]:
    key = Ed25519PrivateKey.generate()
    return fingerprint(key.public_key()), key, public_key_pem(key.public_key()).decode()


def _non_party_line(objs: list[dict[str, Any]], keys: dict[str, Ed25519PrivateKey]) -> set[int]:
    fp, key, _pem = _attacker()
    keys[fp] = key
    objs[-1]["actor"] = fp  # the police's last line, signed by a stranger instead
    return set()


def _receipt_other_head(objs: list[dict[str, Any]], keys: dict[str, Ed25519PrivateKey]) -> set[int]:
    i = _index(objs, "receipt")
    objs[i]["details"]["head"]["hash"] = hashlib.sha256(b"another head").hexdigest()
    return set()


def _party_by_non_party(objs: list[dict[str, Any]], keys: dict[str, Ed25519PrivateKey]) -> set[int]:
    fp, key, _pem = _attacker()
    keys[fp] = key
    objs[_index(objs, "party-add")]["actor"] = fp  # the lawyer added by a stranger
    return set()


def _removed_receipt(objs: list[dict[str, Any]], keys: dict[str, Ed25519PrivateKey]) -> set[int]:
    del objs[_index(objs, "receipt")]  # the police's receipt; their later lines stay
    return set()


def _swapped_party_key(objs: list[dict[str, Any]], keys: dict[str, Ed25519PrivateKey]) -> set[int]:
    fp, key, pem = _attacker()
    i = _index(objs, "party-add")  # the police, added by the lawyer
    old = objs[i]["details"]["party"]["fingerprint"]
    objs[i]["details"]["party"].update(fingerprint=fp, public_key_pem=pem)
    for obj in objs[i + 1 :]:
        if obj["details"].get("to", {}).get("fingerprint") == old:
            obj["details"]["to"]["fingerprint"] = fp
        if obj["actor"] == old:
            obj["actor"] = fp
    keys[fp] = key
    return {i}  # the lawyer's signature over the old key is all the attacker has


CASES: dict[str, tuple[Edit, str, str]] = {
    # name: (edit, the tool's problem kind, what verify.sh says)
    "non_party_line": (_non_party_line, "actor_unknown", "is neither the examiner key nor a party"),
    "receipt_other_head": (_receipt_other_head, "receipt_invalid", "a receipt over another head"),
    "party_by_non_party": (_party_by_non_party, "party_by_non_party", "which is not a party"),
    "removed_receipt": (_removed_receipt, "signed_before_receipt", "before its receipt"),
    "swapped_party_key": (_swapped_party_key, "sig_invalid", "signature"),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_each_checker_rejects(chain: Chain, tmp_path: Path, name: str) -> None:
    edit, kind, said = CASES[name]
    case = _copy(chain.case, tmp_path / "case")
    _rewrite(case, "", edit, dict(chain.keys))
    kinds = {p["kind"] for p in _tool(case, tmp_path / "third-party-home")}
    assert kind in kinds, kinds
    rc, text = _sh(case / "verify.sh", case)
    assert rc == 1 and said in text, text
    bag = _copy(chain.bag, tmp_path / "bag")
    _rewrite(bag, "data", edit, dict(chain.keys))
    rc, text = _sh(bag / "verify.sh", bag)
    assert rc == 1 and said in text, text
    # resealed: only the party rules catch it, not the bag's manifests
    assert not [x for x in text.splitlines() if x.startswith("PROBLEM") and "manifest" in x], text
    if name == "removed_receipt":
        assert "NOT YET RECEIVED" in text


def test_old_single_examiner_case_still_verifies(tmp_path: Path, forensic_env: Path) -> None:
    """A case written before parties (every line ``"v":1``, one examiner) verifies unchanged."""
    case = tmp_path / "old"
    (tmp_path / "a.txt").write_bytes(b"old evidence\n")
    _run(forensic_env, "init", case, "--case-id", "OLD-1", "--title", "T", "--examiner", "E")
    _run(forensic_env, "capture", tmp_path / "a.txt", "--case", case)
    key = unlock_key(forensic_env, PASSPHRASE)

    def to_v1(objs: list[dict[str, Any]], keys: dict[str, Ed25519PrivateKey]) -> set[int]:
        for obj in objs:
            obj["v"] = 1
        return set()

    _rewrite(case, "", to_v1, {key.fingerprint: key.private})
    assert all(x.endswith(b'"v":1}') for x in (case / LOG).read_bytes().splitlines())
    assert _tool(case, tmp_path / "elsewhere") == []
    rc, text = _sh(case / "verify.sh", case)
    assert rc == 0 and "parties: 1" in text, text
    # and the examiner writes on (this home's record of the rewritten head forgotten): the new
    # line is version 2 beside the old ones
    shutil.rmtree(forensic_env / "known-cases")
    _run(forensic_env, "note", "after the upgrade", "--case", case)
    assert _tool(case, tmp_path / "elsewhere") == []
    # A hostile name for a receiver: every checker prints it escaped, never raw.
    other = tmp_path / "other"
    (tmp_path / "o.pem").write_text(_run(other, "key", "show", "--pem"))
    evil = "Evil\x1b]0;x\x07\nRESULT: intact"
    _run(forensic_env, "handover", "--case", case, "--to", evil, "--role", "police",
         "--recipient-key", tmp_path / "o.pem")  # fmt: skip
    shown = _run(forensic_env, "list", "--case", case)
    rc, text = _sh(case / "verify.sh", case)
    for out in (shown, text):
        assert "\x1b" not in out and "\x07" not in out, out
    assert rc == 0 and text.splitlines()[-1] == "RESULT: intact", text
    assert "NOT YET RECEIVED" in text and "NOT YET RECEIVED" in shown


def test_report_custody_table_and_handover_sheet(chain: Chain, tmp_path: Path) -> None:
    case = _copy(chain.case, tmp_path / "case")
    home = _copy(chain.homes["police"], tmp_path / "home")  # its record moves with this copy
    _run(home, "key", "cert", "--name", "Officer Park")
    doc = json.loads(_run(home, "report", "--case", case, "--demo-tsa", "--json", "--lang", "en"))
    pdf = Path(doc["report"]["path"])
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True,
                          text=True, check=True).stdout  # fmt: skip
    lines = [json.loads(x) for x in (case / LOG).read_text().splitlines()]
    handover = [x for x in lines if x["action"] == "handover"][-1]
    assert "Who held the evidence" in text and "still holds it" in text
    assert "Hand-over — both the person handing over and the person receiving" in text
    for needle in ("Officer Park", "Lawyer Kim", "Handing over", "Receiving",
                   handover["details"]["head"]["hash"][:32], handover["actor"][:32],
                   handover["details"]["to"]["fingerprint"][:32]):  # fmt: skip
        assert needle in text, needle


def test_handover_and_receive_bad_input_is_one_line_and_writes_nothing(
    tmp_path: Path, forensic_env: Path
) -> None:
    case = tmp_path / "case"
    (tmp_path / "a.txt").write_bytes(b"evidence\n")
    _run(forensic_env, "init", case, "--case-id", "BAD-1", "--title", "T", "--examiner", "E")
    _run(forensic_env, "capture", tmp_path / "a.txt", "--case", case)
    before = (case / LOG).read_bytes()
    junk = tmp_path / "junk.pem"
    junk.write_text("not a key\n")
    own = tmp_path / "own.pem"
    own.write_text(_run(forensic_env, "key", "show", "--pem"))
    other = tmp_path / "other.pem"
    other.write_text(_run(tmp_path / "other-home", "key", "show", "--pem"))
    base = ("handover", "--case", case, "--to", "Officer Park", "--role")
    for args, words in (
        ((*base, "police", "--recipient-key", junk), "junk.pem: not an Ed25519 public key"),
        ((*base, "police", "--recipient-key", tmp_path / "gone.pem"), "gone.pem: cannot read"),
        ((*base, "police", "--recipient-key", own), "your own key"),
        ((*base, "janitor", "--recipient-key", other), "role janitor is not one of"),
        (("receive", tmp_path), "not a forensic case folder"),
        (("receive", case), "no hand-over to your key"),
    ):
        out = _run(forensic_env, *args, code=2)
        assert words in out and "Traceback" not in out, (args, out)
        assert len([line for line in out.splitlines() if line.strip()]) == 1, out
    assert (case / LOG).read_bytes() == before
