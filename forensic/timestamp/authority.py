"""Time-stamping authorities: the shipped public ones, the user's ``forensic.toml``, ``--tsa``."""

from __future__ import annotations

import hashlib
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from forensic.custody import config_home
from forensic.i18n import templates_dir
from forensic.timestamp.errors import TimestampUsageError

if TYPE_CHECKING:
    from asn1crypto import x509 as asn1_x509

CONFIG_FILE = "forensic.toml"
DEFAULT_TIMEOUT = 10.0


@dataclass(frozen=True)
class TimestampAuthority:
    """An RFC 3161 TSA: where to send requests and which roots its tokens must chain to."""

    name: str
    url: str
    roots: tuple[bytes, ...] = field(repr=False)
    """PEM or DER X.509 certificates trusted for this TSA."""
    policy: str | None = None
    demo: bool = False

    @property
    def slug(self) -> str:
        return slugify(self.name)

    def root_certs(self) -> list[asn1_x509.Certificate]:
        return load_certs(b"".join(self.roots), source=self.name)

    def roots_pem(self) -> list[str]:
        return [cert_pem(c) for c in self.root_certs()]


def slugify(name: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    return slug[:40] or "tsa"


def load_certs(data: bytes, *, source: str) -> list[asn1_x509.Certificate]:
    """Every certificate in PEM (one or many) or DER bytes."""
    from asn1crypto import pem
    from asn1crypto import x509 as asn1_x509

    try:
        if pem.detect(data):
            certs = [
                asn1_x509.Certificate.load(der)
                for kind, _hdr, der in pem.unarmor(data, multiple=True)
                if kind == "CERTIFICATE"
            ]
        else:
            certs = [asn1_x509.Certificate.load(data)]
        for cert in certs:
            _ = cert.subject.human_friendly  # force parsing
    except (ValueError, TypeError, KeyError) as exc:
        raise TimestampUsageError("bad_root", path=source, reason=str(exc)) from exc
    if not certs:
        raise TimestampUsageError("bad_root", path=source, reason="no certificate")
    return certs


def cert_pem(cert: asn1_x509.Certificate) -> str:
    from asn1crypto import pem

    armored: bytes = pem.armor("CERTIFICATE", cert.dump())
    return armored.decode("ascii")


def _read_root(path: Path) -> bytes:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise TimestampUsageError(
            "bad_root", path=str(path), reason=exc.strerror or str(exc)
        ) from exc
    load_certs(data, source=str(path))
    return data


# name, url, root file under templates/tsa/, policy (documented in templates/tsa/README.md)
_DEFAULTS: tuple[tuple[str, str, str], ...] = (
    ("DigiCert", "http://timestamp.digicert.com", "digicert-trusted-root-g4.pem"),
    ("Sectigo", "http://timestamp.sectigo.com", "usertrust-rsa-ca.pem"),
)


def default_tsas() -> list[TimestampAuthority]:
    """The free public TSAs shipped with forensic (roots in ``templates/tsa/``)."""
    folder = templates_dir() / "tsa"
    return [
        TimestampAuthority(name, url, (_read_root(folder / root),)) for name, url, root in _DEFAULTS
    ]


@dataclass(frozen=True)
class TimestampConfig:
    tsas: tuple[TimestampAuthority, ...]
    auto: bool
    timeout: float


def load_config(home: Path | None = None) -> TimestampConfig:
    """``[timestamp]`` of ``forensic.toml`` in the config folder.

    ``auto`` (default false) stamps after every capture; ``defaults`` (default true) includes
    the shipped public TSAs; ``timeout`` in seconds; ``[[timestamp.tsa]]`` tables add TSAs
    with ``name``, ``url`` and ``roots`` (PEM files, relative to the config folder).
    """
    home = home or config_home()
    path = home / CONFIG_FILE
    table: dict[str, Any] = {}
    if path.is_file():
        try:
            with path.open("rb") as fh:
                table = dict(tomllib.load(fh).get("timestamp", {}))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise TimestampUsageError("config_invalid", path=str(path), reason=str(exc)) from exc
    tsas: list[TimestampAuthority] = default_tsas() if table.get("defaults", True) else []
    for n, entry in enumerate(table.get("tsa", []) or [], start=1):
        if not isinstance(entry, dict) or not entry.get("url") or not entry.get("roots"):
            raise TimestampUsageError(
                "config_invalid", path=str(path), reason=f"[[timestamp.tsa]] #{n}: url and roots"
            )
        roots = entry["roots"]
        roots = [roots] if isinstance(roots, str) else list(roots)
        tsas.append(
            TimestampAuthority(
                name=str(entry.get("name") or entry["url"]),
                url=str(entry["url"]),
                roots=tuple(_read_root(home / str(r)) for r in roots),
                policy=str(entry["policy"]) if entry.get("policy") else None,
            )
        )
    try:
        timeout = float(table.get("timeout", DEFAULT_TIMEOUT))
    except (TypeError, ValueError) as exc:
        raise TimestampUsageError("config_invalid", path=str(path), reason="timeout") from exc
    return TimestampConfig(tuple(tsas), bool(table.get("auto", False)), timeout)


def trust_anchors(home: Path | None = None) -> frozenset[str]:
    """SHA-256 (of the DER) of every root a token may chain to and count as trusted time: each
    certificate shipped in ``templates/tsa/*.pem`` and each root of a non-demo TSA in the
    ``forensic.toml`` of ``home``.

    Checked by certificate, never by name, and never by the ``trusted`` flag a case stores (the
    case is in the hands of whoever holds it). A configuration that does not load adds nothing.
    """
    folder = templates_dir() / "tsa"
    found: set[str] = set()
    for path in sorted(folder.glob("*.pem")):
        found.update(
            hashlib.sha256(c.dump()).hexdigest()
            for c in load_certs(path.read_bytes(), source=str(path))
        )
    try:
        configured = load_config(home).tsas
    except TimestampUsageError:
        configured = ()
    for tsa in configured:
        if not tsa.demo:
            found.update(hashlib.sha256(c.dump()).hexdigest() for c in tsa.root_certs())
    return frozenset(found)


def tsas_from_options(urls: list[str], root_files: list[Path]) -> list[TimestampAuthority]:
    """``--tsa URL`` (repeatable) with the roots of ``--tsa-root PEM`` (repeatable, for all)."""
    if not urls:
        return []
    if not root_files:
        known = {t.url: t for t in load_config().tsas}
        missing = [u for u in urls if u not in known]
        if missing:
            raise TimestampUsageError("root_needed", url=missing[0])
        return [known[u] for u in urls]
    roots = tuple(_read_root(p) for p in root_files)
    out = []
    for url in urls:
        host = re.sub(r"^[a-z]+://", "", url).split("/")[0]
        out.append(TimestampAuthority(name=host or url, url=url, roots=roots))
    return out
