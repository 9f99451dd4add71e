"""TLS for the analysis cluster: the certificates the tool makes, and Dask's ``Security`` from them.

Evidence bytes travel from the coordinator to Dask workers; they never travel in the clear.
``forensic cluster certs DIR`` makes one private CA for a unit's cluster and a certificate per
role (scheduler, worker, client = the coordinator), all EC P-256 and signed by that CA. Dask
then runs mutual TLS: only holders of a certificate from this CA join. Private keys are
written mode 0600 and never leave DIR; the CA's key stays beside them so more workers can be
enrolled (keep DIR off the workers: a worker needs only ``ca.pem`` and its own pair).
"""

from __future__ import annotations

import datetime
import hashlib
import ipaddress
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from forensic._internal.fsio import atomic_write
from forensic.errors import OperationalError, UsageError

if TYPE_CHECKING:
    from distributed.security import Security

ROLES = ("scheduler", "worker", "client")
CA_FILE = "ca.pem"
VALID_DAYS = 825
DEFAULT_HOSTS = ("127.0.0.1", "localhost")
WORKER_NAME = re.compile(r"[a-z0-9][a-z0-9-]{0,62}")


class ClusterError(UsageError):
    """A cluster set-up the tool refuses; messages: ``[cluster]`` table."""

    catalogue = "cluster."


class ClusterFault(OperationalError):
    """The cluster failed or answered wrongly (unreachable, no workers, a refused result)."""

    catalogue = "cluster."


@dataclass(frozen=True)
class CertFiles:
    """One role's certificate and key in a certificate folder."""

    cert: Path
    key: Path

    @classmethod
    def of(cls, folder: Path, role: str) -> CertFiles:
        return cls(folder / f"{role}.pem", folder / f"{role}-key.pem")


def certificate_sha256(pem: bytes) -> str:
    """The SHA-256 of a certificate's DER: what the custody log names a worker by."""
    cert = x509.load_pem_x509_certificate(pem)
    return hashlib.sha256(cert.public_bytes(serialization.Encoding.DER)).hexdigest()


def _name(common: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "forensic analysis cluster"),
            x509.NameAttribute(NameOID.COMMON_NAME, common),
        ]
    )


def _san(hosts: Sequence[str]) -> x509.SubjectAlternativeName:
    names: list[x509.GeneralName] = []
    for host in hosts:
        try:
            names.append(x509.IPAddress(ipaddress.ip_address(host)))
        except ValueError:
            names.append(x509.DNSName(host))
    return x509.SubjectAlternativeName(names)


def _pem_key(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _issue(
    subject: str,
    key: ec.EllipticCurvePrivateKey,
    issuer: tuple[x509.Name, ec.EllipticCurvePrivateKey] | None,
    hosts: Sequence[str],
) -> x509.Certificate:
    now = datetime.datetime.now(datetime.UTC)
    issuer_name, issuer_key = issuer if issuer is not None else (_name(subject), key)
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(subject))
        .issuer_name(issuer_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=VALID_DAYS))
        .add_extension(x509.BasicConstraints(ca=issuer is None, path_length=None), critical=True)
    )
    if issuer is None:
        builder = builder.add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False), True
        )
    else:
        builder = builder.add_extension(_san(hosts), critical=False).add_extension(
            x509.ExtendedKeyUsage(
                [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]
            ),
            critical=False,
        )
    return builder.sign(issuer_key, hashes.SHA256())


def make_certs(
    folder: Path, hosts: Sequence[str] = DEFAULT_HOSTS, workers: Sequence[str] = ()
) -> dict[str, str]:
    """A new CA and one certificate per role in ``folder``, plus ``worker-NAME`` for each of
    ``workers`` (one per machine: the log then tells the machines apart by certificate);
    returns {file name: SHA-256 of the certificate}. Never overwrites a certificate folder."""
    if (folder / CA_FILE).exists():
        raise ClusterError("certs_exist", path=str(folder))
    for name in workers:
        if not WORKER_NAME.fullmatch(name):
            raise ClusterError("bad_worker_name", name=name)
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = _issue("forensic cluster CA", ca_key, None, hosts)
    atomic_write(folder / "ca-key.pem", _pem_key(ca_key), mode=0o600)
    ca_pem = ca.public_bytes(serialization.Encoding.PEM)
    atomic_write(folder / CA_FILE, ca_pem, mode=0o644)
    made = {CA_FILE: certificate_sha256(ca_pem)}
    for role in (*ROLES, *(f"worker-{n}" for n in workers)):
        key = ec.generate_private_key(ec.SECP256R1())
        cert = _issue(f"forensic cluster {role}", key, (ca.subject, ca_key), hosts)
        files = CertFiles.of(folder, role)
        atomic_write(files.key, _pem_key(key), mode=0o600)
        pem = cert.public_bytes(serialization.Encoding.PEM)
        atomic_write(files.cert, pem, mode=0o644)
        made[files.cert.name] = certificate_sha256(pem)
    return made


def issued_by_ca(cert_pem: bytes, ca_pem: bytes) -> bool:
    """Whether ``cert_pem`` carries a valid signature of the CA in ``ca_pem`` (by value)."""
    try:
        cert = x509.load_pem_x509_certificate(cert_pem)
        ca = x509.load_pem_x509_certificate(ca_pem)
        cert.verify_directly_issued_by(ca)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True


def _checked_files(folder: Path, role: str, name: str | None) -> CertFiles:
    files = CertFiles.of(folder, f"{role}-{name}" if name else role)
    for path in (folder / CA_FILE, files.cert, files.key):
        if not path.is_file():
            raise ClusterError("certs_missing", path=str(path))
    mode = files.key.stat().st_mode & 0o077
    if mode:
        raise ClusterError(
            "key_shared", path=str(files.key), mode=oct(files.key.stat().st_mode & 0o777)
        )
    return files


def tls_options(folder: Path, role: str, name: str | None = None) -> dict[str, Any]:
    """The ``Security`` keyword arguments for one role (``client``, ``scheduler``, ``worker``;
    ``name``: a worker's own certificate ``worker-NAME``)."""
    files = _checked_files(folder, role, name)
    return {
        "require_encryption": True,
        "tls_ca_file": os.fspath(folder / CA_FILE),
        f"tls_{role}_cert": os.fspath(files.cert),
        f"tls_{role}_key": os.fspath(files.key),
    }


def security(folder: Path, role: str, name: str | None = None) -> Security:
    """Dask's mutual-TLS settings for one role, from a folder made by :func:`make_certs`."""
    from distributed.security import Security

    return Security(**tls_options(folder, role, name))  # type: ignore[no-untyped-call]
