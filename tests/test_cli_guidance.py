"""The CLI as a newcomer meets it: the next step after each verb, passphrase strength and the
truth about losing it, warnings at export, and ``match`` on a query that cannot be used.

Every point is checked through the CLI in English and Korean; the passphrase prompts are driven
through a real pseudo-terminal (``pty.fork``: the child's controlling terminal, so ``getpass``
reads the test's answers and never the developer's terminal).
"""

from __future__ import annotations

import hashlib
import json
import os
import pty
import re
import select
import shutil
import subprocess
import sys
import time
from pathlib import Path
from shlex import quote

import pytest

from forensic.case import Case
from forensic.custody.keys import KEY_FILE
from forensic.service.case_setup import passphrase_strength
from forensic.timestamp import demo_tsa, stamp_head
from tests import test_timestamp
from tests.casetools import log_entries
from tests.conftest import REPO, Cli, examiner_session
from tests.test_timestamp import Pki, TsaServer, _stamp

# the local TSA (openssl ts behind http.server) of the timestamp tests
pki = test_timestamp.pki
tsa_server = test_timestamp.tsa_server

WEAK = "1234"


def _init(cli: Cli, path: Path, *extra: str) -> None:
    res = cli("init", path, "--case-id", "G-1", "--title", "Guide", "--examiner", "Kim", *extra)
    assert res.exit_code == 0, res.stderr


def _evidence(tmp_path: Path) -> Path:
    folder = tmp_path / "증거 원본"
    folder.mkdir(exist_ok=True)
    (folder / "대화.txt").write_text("message one\n", "utf-8")
    return folder


def _snapshot(folder: Path) -> dict[str, str]:
    """Every file of a case and its SHA-256: what "nothing written" is checked against."""
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


# -- next steps ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("lang", "init_next", "capture_next"),
    [
        ("en", "Next — add evidence: forensic capture --case", "Next — see the items:"),
        ("ko", "다음 단계 — 증거 수집: forensic capture --case", "다음 단계 — 목록 보기:"),
    ],
)
def test_init_and_capture_say_the_next_step_quoted_and_quiet_or_json_silence_it(
    cli: Cli,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    lang: str,
    init_next: str,
    capture_next: str,
) -> None:
    case = tmp_path / "사건 2026-001"
    res = cli("init", case, "--case-id", "G-1", "--title", "t", "--examiner", "Kim", "--lang", lang)
    assert res.exit_code == 0, res.stderr
    assert f"{init_next} '{case}' " in res.stdout
    evidence = _evidence(tmp_path)
    res = cli("capture", "--case", case, evidence, "--lang", lang)
    assert res.exit_code == 0, res.stderr
    [hint] = [line for line in res.stdout.splitlines() if line.startswith(capture_next)]
    assert f"forensic list --case '{case}'" in hint and "forensic timestamp --case" in hint
    assert "forensic analyze --case" in hint
    # found from the current folder: the hint names no --case
    monkeypatch.chdir(case)
    (evidence / "two.txt").write_text("two\n")
    res = cli("capture", evidence / "two.txt", "--lang", lang)
    assert res.exit_code == 0, res.stderr
    assert "forensic list ·" in res.stdout and "--case" not in res.stdout
    # --quiet and --json: no hint
    (evidence / "three.txt").write_text("three\n")
    res = cli("capture", evidence / "three.txt", "--lang", lang, "--quiet")
    assert res.exit_code == 0 and capture_next not in res.stdout and res.stdout.strip()
    (evidence / "four.txt").write_text("four\n")
    res = cli("capture", evidence / "four.txt", "--lang", lang, "--quiet", "--json")
    assert res.exit_code == 0 and json.loads(res.stdout)["ok"] is True
    other = tmp_path / "second case"
    res = cli("init", other, "--case-id", "G-2", "--title", "t", "--examiner", "Kim", "--json")
    assert res.exit_code == 0 and json.loads(res.stdout)["ok"] is True  # nothing else on stdout
    res = cli(
        "init",
        tmp_path / "third",
        "--case-id",
        "G-3",
        "--title",
        "t",
        "--examiner",
        "K",
        "--quiet",
        "--lang",
        lang,
    )
    assert res.exit_code == 0 and init_next not in res.stdout


def _pasted_check(stdout: str) -> str:
    [line] = [line for line in stdout.splitlines() if "sh verify.sh" in line]
    match = re.search(r"(cd .*&& sh verify\.sh)", line)
    assert match is not None, line
    return match.group(1)


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_export_hint_pasted_into_sh_verifies_the_bag(
    cli: Cli, case_dir: Path, tmp_path: Path, lang: str
) -> None:
    res = cli("capture", "--case", case_dir, _evidence(tmp_path))
    assert res.exit_code == 0, res.stderr
    parent = tmp_path / "사건 2026-001 O'Brien 묶음"
    parent.mkdir()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    folder_bag = parent / "반출 묶음 1"
    res = cli("export", "--case", case_dir, "--out", folder_bag, "--lang", lang)
    assert res.exit_code == 0, res.stderr
    lead = "Next — anyone can check the bag:" if lang == "en" else "다음 단계 — 누구나 묶음을"
    assert lead in res.stdout
    command = _pasted_check(res.stdout)
    assert command.startswith("cd '")  # one quoted shell word, not "cd 사건 2026-001 …"
    ran = subprocess.run(
        ["sh", "-c", command], cwd=elsewhere, capture_output=True, text=True, timeout=120
    )
    assert ran.returncode == 0, ran.stdout + ran.stderr
    # the same line, the shell failing: the bag changed after export
    (folder_bag / "data").joinpath("planted.txt").write_text("x")
    tampered = subprocess.run(
        ["sh", "-c", command], cwd=elsewhere, capture_output=True, text=True, timeout=120
    )
    assert tampered.returncode != 0
    # a zip: unzip, then the same check
    if shutil.which("unzip") is not None:
        res = cli("export", "--case", case_dir, "--out", parent / "반출 묶음 2.zip", "--lang", lang)
        assert res.exit_code == 0, res.stderr
        command = _pasted_check(res.stdout)
        assert "unzip '반출 묶음 2.zip'" in command
        ran = subprocess.run(
            ["sh", "-c", command], cwd=elsewhere, capture_output=True, text=True, timeout=120
        )
        assert ran.returncode == 0, ran.stdout + ran.stderr
    # --quiet: no hint; --json: the document only
    res = cli("export", "--case", case_dir, "--out", parent / "3", "--quiet", "--lang", lang)
    assert res.exit_code == 0 and "sh verify.sh" not in res.stdout
    res = cli("export", "--case", case_dir, "--out", parent / "4", "--json")
    assert res.exit_code == 0 and "sh verify.sh" not in res.stdout
    assert json.loads(res.stdout)["warnings"] == ["no_trusted_timestamp"]


@pytest.mark.parametrize(
    ("lang", "lead"),
    [("en", "Next — the PDF to hand over: "), ("ko", "다음 단계 — 제출할 PDF: ")],
)
def test_report_says_where_the_pdf_is_and_to_export(
    cli: Cli, case_dir: Path, tmp_path: Path, lang: str, lead: str
) -> None:
    assert cli("capture", "--case", case_dir, _evidence(tmp_path)).exit_code == 0
    assert cli("key", "cert", "--name", "Kim").exit_code == 0
    copy = tmp_path / "제출 서류" / "보고서 사본.pdf"
    copy.parent.mkdir()
    res = cli("report", "--case", case_dir, "--demo-tsa", "--out", copy, "--lang", lang)
    assert res.exit_code == 0, res.stderr
    [hint] = [line for line in res.stdout.splitlines() if line.startswith(lead)]
    assert f"'{copy}'" in hint and f"forensic export --case {quote(str(case_dir))} --out" in hint


# -- passphrases --------------------------------------------------------------------------
def test_strength_estimate_names_generic_reasons() -> None:
    assert passphrase_strength("correct horse battery staple").score >= 3
    weak = passphrase_strength(WEAK)
    assert weak.weak and "common" in weak.reasons and "short" in weak.reasons
    assert "keyboard" in passphrase_strength("zxcvbnmlkjh").reasons
    assert "sequence" in passphrase_strength("abcdefgh1").reasons
    assert "repeat" in passphrase_strength("aaaaaaaaaaaa").reasons
    assert "personal" in passphrase_strength("Kim G-1", ("G-1", "Kim")).reasons
    assert "흔히 쓰이는 암호" in weak.describe("ko")
    assert passphrase_strength("x" * 500).reasons  # past zxcvbn's 72 characters: no error


@pytest.mark.parametrize(
    ("lang", "reason"),
    [
        ("en", "too easy to guess to protect encrypted evidence"),
        ("ko", "암호화된 증거를 지키기에는 너무 쉽게 추측됩니다"),
    ],
)
def test_weak_passphrase_refused_for_an_encrypted_case(
    cli: Cli,
    tmp_path: Path,
    forensic_env: Path,
    monkeypatch: pytest.MonkeyPatch,
    lang: str,
    reason: str,
) -> None:
    monkeypatch.setenv("FORENSIC_PASSPHRASE", WEAK)
    case = tmp_path / "enc"
    res = cli(
        "init",
        case,
        "--case-id",
        "E",
        "--title",
        "t",
        "--examiner",
        "K",
        "--encrypt",
        "--lang",
        lang,
    )
    assert res.exit_code == 2
    assert reason in res.stderr and len(res.stderr.strip().splitlines()) == 1
    if lang == "ko":
        assert "password" not in res.stderr and "guess" not in res.stderr
    assert "This is a top-10" not in res.stderr  # zxcvbn's own English text is never printed
    assert not case.exists() and not (forensic_env / KEY_FILE).exists()
    # a plain case: warned, made
    res = cli("init", case, "--case-id", "E", "--title", "t", "--examiner", "K", "--lang", lang)
    assert res.exit_code == 0, res.stderr
    warned = "easy to guess (strength 0 of 4" if lang == "en" else "쉽게 추측됩니다(강도 0/4"
    assert warned in res.stderr and (forensic_env / KEY_FILE).exists()
    # that weak key cannot start an encrypted case either: its passphrase would wrap the case key
    second = tmp_path / "enc2"
    res = cli(
        "init",
        second,
        "--case-id",
        "F",
        "--title",
        "t",
        "--examiner",
        "K",
        "--encrypt",
        "--lang",
        lang,
    )
    assert res.exit_code == 2 and not second.exists()
    assert ("--encrypt" in res.stderr) and ("FORENSIC_HOME" in res.stderr)


def test_plain_init_json_carries_the_strength(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FORENSIC_PASSPHRASE", "password1")
    res = cli("init", tmp_path / "c", "--case-id", "E", "--title", "t", "--examiner", "K", "--json")
    assert res.exit_code == 0, res.stderr
    doc = json.loads(res.stdout)
    assert doc["passphrase"]["weak"] is True and "common" in doc["passphrase"]["reasons"]
    assert doc["encrypted"] is False


@pytest.mark.parametrize(
    ("lang", "plain", "encrypted"),
    [
        (
            "en",
            "you can no longer sign new entries in your cases (the evidence stays readable",
            "losing the passphrase means losing access to the evidence itself",
        ),
        (
            "ko",
            "새 항목을 서명할 수 없게 됩니다(증거는 계속 읽고 검증할 수 있습니다)",
            "암호를 잃으면 증거 자체에 접근할 수 없게 되며",
        ),
    ],
)
def test_loss_warning_tells_the_truth_for_each_kind_of_case(
    cli: Cli,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    lang: str,
    plain: str,
    encrypted: str,
) -> None:
    monkeypatch.setenv("FORENSIC_AGE_WORK_FACTOR", "10")
    res = cli(
        "init", tmp_path / "p", "--case-id", "P", "--title", "t", "--examiner", "K", "--lang", lang
    )
    assert res.exit_code == 0, res.stderr
    assert plain in res.stdout and encrypted not in res.stdout + res.stderr
    res = cli(
        "init",
        tmp_path / "e",
        "--case-id",
        "E",
        "--title",
        "t",
        "--examiner",
        "K",
        "--encrypt",
        "--lang",
        lang,
        "--quiet",
    )
    assert res.exit_code == 0, res.stderr
    assert encrypted in res.stderr and plain not in res.stdout  # said even with --quiet
    assert f"forensic share --case {quote(str(tmp_path / 'e'))} --recipient" in res.stderr


# -- the pseudo-terminal ------------------------------------------------------------------
class Terminal:
    """``python -m forensic ARGS`` with a pseudo-terminal as its controlling terminal."""

    def __init__(self, args: list[str], env: dict[str, str]) -> None:
        self.pid, self.fd = pty.fork()
        if self.pid == 0:  # the child: nothing but exec
            try:
                os.execve(sys.executable, [sys.executable, "-m", "forensic", *args], env)
            finally:
                os._exit(127)
        self.output = b""
        self.seen = 0

    def _read(self, deadline: float) -> bool:
        ready, _, _ = select.select([self.fd], [], [], max(0.0, deadline - time.monotonic()))
        if not ready:
            return False
        try:
            chunk = os.read(self.fd, 4096)
        except OSError:  # EIO: the child closed the terminal
            return False
        self.output += chunk
        return bool(chunk)

    def expect(self, text: str, timeout: float = 60) -> None:
        """Wait for ``text``. For a hidden prompt wait for its ``": "``: click writes the prompt,
        then getpass turns echo off (flushing what was typed) and writes the space."""
        wanted = text.encode()
        deadline = time.monotonic() + timeout
        while wanted not in self.output[self.seen :]:
            if not self._read(deadline):
                raise AssertionError(f"{text!r} not shown; got {self.text()!r}")
        self.seen = self.output.index(wanted, self.seen) + len(wanted)

    def type(self, line: str) -> None:
        os.write(self.fd, line.encode() + b"\n")

    def finish(self, timeout: float = 60) -> int:
        deadline = time.monotonic() + timeout
        while self._read(deadline):
            pass
        _, status = os.waitpid(self.pid, 0)
        os.close(self.fd)
        return os.waitstatus_to_exitcode(status)

    def text(self) -> str:
        return self.output.decode("utf-8", "replace")


def _terminal_env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "FORENSIC_PASSPHRASE"}
    env.update(
        FORENSIC_HOME=str(home),
        PYTHONPATH=str(REPO),
        NO_COLOR="1",
        TERM="dumb",
        FORENSIC_AGE_WORK_FACTOR="10",
    )
    return env


def _init_at_terminal(case: Path, home: Path, lang: str, *extra: str) -> Terminal:
    """``forensic init`` of ``case`` at a pseudo-terminal, asking for the passphrase."""
    argv = ["init", str(case), "--case-id", "T", "--title", "t", "--examiner", "K"]
    return Terminal([*argv, *extra, "--lang", lang], _terminal_env(home))


_PROMPTS = {
    "en": ("New passphrase for your examiner key: ", "Repeat the passphrase: ", "tries left"),
    "ko": ("새 조사자 키 암호: ", "암호 다시 입력: ", "남은 횟수"),
}


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_mismatch_asks_again_then_a_strong_passphrase_is_taken(
    tmp_path: Path, forensic_env: Path, lang: str
) -> None:
    new, repeat, retry = _PROMPTS[lang]
    case = tmp_path / "사건 tty"
    strong = "violet tractor hums under seven moons"
    term = _init_at_terminal(case, forensic_env, lang, "--encrypt")
    term.expect(new)
    term.type(strong)
    term.expect(repeat)
    term.type(strong + " typo")
    term.expect(retry)
    term.expect(new)
    term.type(strong)
    term.expect(repeat)
    term.type(strong)
    code = term.finish()
    assert code == 0, term.text()
    assert strong not in term.text()  # hidden input
    assert (forensic_env / KEY_FILE).exists() and (case / "keys" / "case-identity.age").exists()


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_three_mismatches_fail_and_leave_nothing(
    tmp_path: Path, forensic_env: Path, lang: str
) -> None:
    new, repeat, _retry = _PROMPTS[lang]
    case = tmp_path / "case"
    term = _init_at_terminal(case, forensic_env, lang)
    for attempt in range(3):
        term.expect(new)
        term.type(f"violet tractor hums under seven moons {attempt}")
        term.expect(repeat)
        term.type("something else entirely, friend")
    code = term.finish()
    assert code == 2, term.text()
    differ = "the two passphrases differ" if lang == "en" else "두 암호가 다릅니다"
    assert differ in term.text()
    assert term.text().count(new) == 3
    assert not case.exists() and not (forensic_env / KEY_FILE).exists()


@pytest.mark.parametrize(
    ("lang", "reason"),
    [("en", "passphrase refused: too easy to guess"), ("ko", "암호를 쓸 수 없습니다")],
)
def test_weak_passphrase_typed_at_the_terminal_is_refused(
    tmp_path: Path, forensic_env: Path, lang: str, reason: str
) -> None:
    new, repeat, _retry = _PROMPTS[lang]
    case = tmp_path / "case"
    term = _init_at_terminal(case, forensic_env, lang, "--encrypt")
    term.expect(new)
    term.type("password1")
    term.expect(repeat)
    term.type("password1")
    code = term.finish()
    assert code == 2, term.text()
    assert reason in term.text()
    assert not case.exists() and not (forensic_env / KEY_FILE).exists()


# -- warnings at export -------------------------------------------------------------------
@pytest.mark.parametrize(
    ("lang", "no_recipient", "no_stamp"),
    [
        ("en", "the police or the court cannot read it", "holds no trusted timestamp token"),
        ("ko", "경찰이나 법원은 읽을 수 없습니다", "신뢰할 수 있는 타임스탬프 토큰이 없어"),
    ],
)
def test_export_warns_of_an_unreadable_bag_and_no_trusted_time(
    cli: Cli,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    lang: str,
    no_recipient: str,
    no_stamp: str,
) -> None:
    monkeypatch.setenv("FORENSIC_AGE_WORK_FACTOR", "10")
    case = tmp_path / "enc case"
    _init(cli, case, "--encrypt")
    assert cli("capture", "--case", case, _evidence(tmp_path)).exit_code == 0
    res = cli("export", "--case", case, "--out", tmp_path / "b1", "--lang", lang, "--quiet")
    assert res.exit_code == 0, res.stderr
    assert no_recipient in res.stderr and no_stamp in res.stderr  # warnings survive --quiet
    assert f"forensic share --case '{case}' --recipient" in res.stderr
    assert f"forensic timestamp --case '{case}'" in res.stderr
    res = cli("export", "--case", case, "--out", tmp_path / "b2", "--json")
    assert json.loads(res.stdout)["warnings"] == ["no_recipient", "no_trusted_timestamp"]
    # --decrypt: plaintext copies, readable by the receiver
    res = cli("export", "--case", case, "--out", tmp_path / "b3", "--decrypt", "--json")
    assert json.loads(res.stdout)["warnings"] == ["no_trusted_timestamp"]
    # a second recipient: the police can decrypt
    import pyrage

    police = str(pyrage.x25519.Identity.generate().to_public())
    assert cli("share", "--case", case, "--recipient", police).exit_code == 0
    res = cli("export", "--case", case, "--out", tmp_path / "b4", "--lang", lang)
    assert res.exit_code == 0 and no_recipient not in res.stderr and no_stamp in res.stderr


def test_a_trusted_token_silences_the_timestamp_warning(
    cli: Cli,
    case_dir: Path,
    tmp_path: Path,
    tsa_server: TsaServer,
    pki: Pki,
) -> None:
    assert cli("capture", "--case", case_dir, _evidence(tmp_path)).exit_code == 0
    # a demo token is not a trusted time
    case = Case.open(case_dir, examiner_session())
    assert stamp_head(case, examiner_session().unlock(), [demo_tsa()], timeout=5).tokens
    res = cli("export", "--case", case_dir, "--out", tmp_path / "b1", "--json")
    assert json.loads(res.stdout)["warnings"] == ["no_trusted_timestamp"]
    res = _stamp(cli, case_dir, tsa_server.url("ok"), pki.root)
    assert res.exit_code == 0 and json.loads(res.stdout)["tokens"], res.stdout
    # a root given once with --tsa-root is not trusted time: configured or shipped roots are
    res = cli("export", "--case", case_dir, "--out", tmp_path / "b1b", "--json")
    assert json.loads(res.stdout)["warnings"] == ["no_trusted_timestamp"]
    home = Path(os.environ["FORENSIC_HOME"])
    shutil.copy(pki.root, home / "test-root.pem")
    (home / "forensic.toml").write_text(
        f'[[timestamp.tsa]]\nname = "Test TSA"\nurl = "{tsa_server.url("ok")}"\n'
        'roots = ["test-root.pem"]\n'
    )
    res = cli("export", "--case", case_dir, "--out", tmp_path / "b2")
    assert res.exit_code == 0 and "timestamp" not in res.stderr, res.stderr
    res = cli("export", "--case", case_dir, "--out", tmp_path / "b3", "--json")
    assert json.loads(res.stdout)["warnings"] == []


# -- match on a query that cannot be used -------------------------------------------------
@pytest.mark.parametrize(
    ("lang", "missing", "not_image", "not_file"),
    [
        ("en", "no such file", "not an image this tool can read", "not a file"),
        ("ko", "파일이 없습니다", "읽을 수 있는 그림 파일이 아닙니다", "파일이 아닙니다"),
    ],
)
def test_match_on_a_missing_or_non_image_query_is_one_line_exit_2_nothing_logged(
    cli: Cli,
    case_dir: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    lang: str,
    missing: str,
    not_image: str,
    not_file: str,
) -> None:
    assert cli("capture", "--case", case_dir, _evidence(tmp_path)).exit_code == 0
    before = _snapshot(case_dir)
    entries = len(log_entries(case_dir))
    text = tmp_path / "메모.jpg"
    text.write_text("not a picture")
    monkeypatch.chdir(case_dir)
    for query, expected in (
        ("../없음.jpg", missing),
        (str(text), not_image),
        (str(tmp_path), not_file),
    ):
        res = cli("match", query, "--lang", lang)
        assert res.exit_code == 2, res.stdout + res.stderr
        [line] = res.stderr.strip().splitlines()
        assert query in line and expected in line, line
        assert "PDQ" not in line
        res = cli("match", query, "--lang", lang, "--json")
        assert res.exit_code == 2 and json.loads(res.stdout)["ok"] is False
    assert _snapshot(case_dir) == before and len(log_entries(case_dir)) == entries
