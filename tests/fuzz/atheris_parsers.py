"""Coverage-guided fuzzing (atheris / libFuzzer) of the parsers of untrusted input, by hand.

    PYTHONPATH=. python tests/fuzz/atheris_parsers.py TARGET -max_total_time=120 [corpus_dir]

TARGET is one of: media, xmp, c2pa, telegram-json, telegram-html, kakao-text, kakao-zip, tsa.
The property is the same as tests/test_fuzz_parsers.py (tests/fuzz/targets.py): a parser never
raises; only the tool's own ForensicError family may come out of token parsing. A crash prints
the input and writes it as crash-<sha1> for a regression test. Results: docs/robustness.md §3.
"""

from __future__ import annotations

import contextlib
import json
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import atheris

with atheris.instrument_imports(include=["forensic"]):
    from forensic.capture import kakaotalk, telegram  # noqa: F401
    from forensic.errors import ForensicError
    from forensic.media import c2pa_reader  # noqa: F401
    from forensic.media.image import containers, exif, generators, iptc, xmp  # noqa: F401
    from forensic.timestamp import demo_tsa
    from forensic.timestamp.token import parse_token
    from tests.fuzz import targets

WORK = Path(tempfile.mkdtemp(prefix="atheris-"))
MAGICS = sorted(targets.MAGIC.values())
SEEDS = list(targets.media_seeds().values())


def _media(data: bytes) -> None:
    fdp = atheris.FuzzedDataProvider(data)
    how = fdp.ConsumeIntInRange(0, 1)
    if how == 0:
        blob = MAGICS[fdp.ConsumeIntInRange(0, len(MAGICS) - 1)] + fdp.ConsumeBytes(4096)
    else:
        seed = SEEDS[fdp.ConsumeIntInRange(0, len(SEEDS) - 1)]
        ops = [
            (
                fdp.ConsumeIntInRange(0, 3),
                fdp.ConsumeIntInRange(0, 1 << 20),
                fdp.ConsumeInt(1) & 255,
            )
            for _ in range(fdp.ConsumeIntInRange(0, 6))
        ]
        blob = targets.mutate(seed, ops)
    targets.describe_all(blob, WORK / "media")


def _xmp(data: bytes) -> None:
    targets.xmp_packet(data, [(0, len(data), data[0] if data else 0)])


def _c2pa(data: bytes) -> None:
    try:
        report = json.loads(data)
    except (ValueError, RecursionError):
        return
    targets.c2pa_report(report, True, None)


def _tsa(data: bytes) -> None:
    with contextlib.suppress(ForensicError):
        parse_token(data, TSA)


TSA = demo_tsa()
TARGETS: dict[str, Callable[[bytes], None]] = {
    "media": _media,
    "xmp": _xmp,
    "c2pa": _c2pa,
    "telegram-json": lambda d: targets.telegram_json(d, WORK / "tg"),
    "telegram-html": lambda d: targets.telegram_html(d, WORK / "tgh"),
    "kakao-text": lambda d: targets.kakao_file(d, "txt", WORK / "kk"),
    "kakao-zip": lambda d: targets.kakao_file(d, "zip", WORK / "kz"),
    "tsa": _tsa,
}
SEED_INPUTS: dict[str, list[bytes]] = {
    "telegram-json": [targets.telegram_seed()],
    "telegram-html": [targets.telegram_html_seed()],
    "kakao-text": list(targets.kakao_seeds().values()),
    "kakao-zip": [targets.kakao_zip_seed()],
}


def main() -> None:
    if len(sys.argv) < 2 or sys.argv[1] not in TARGETS:
        sys.exit(f"usage: {sys.argv[0]} {{{','.join(TARGETS)}}} [libFuzzer options]")
    name = sys.argv.pop(1)
    corpus = [a for a in sys.argv[1:] if not a.startswith("-")]
    if corpus:
        folder = Path(corpus[0])
        folder.mkdir(parents=True, exist_ok=True)
        for n, seed in enumerate(SEED_INPUTS.get(name, [])):
            (folder / f"seed-{n}").write_bytes(seed)
    atheris.Setup(sys.argv, TARGETS[name])
    atheris.Fuzz()


if __name__ == "__main__":
    main()
