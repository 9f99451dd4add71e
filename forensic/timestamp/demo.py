"""An in-process TSA for ``forensic demo``: works offline, and says loudly that it is not trusted.

Its CA and TSA certificate are generated at run time; tokens it issues verify like real ones
(ESSCertIDv2, critical timeStamping EKU) but are recorded ``demo: true, trusted: false``.
"""

from __future__ import annotations

import datetime as dt
from functools import cache
from typing import TYPE_CHECKING

from forensic.timestamp.authority import TimestampAuthority

if TYPE_CHECKING:
    from cryptography import x509

DEMO_LABEL = "DEMO — NOT TRUSTED"
DEMO_URL = "demo://forensic-demo-tsa"
DEMO_POLICY = "1.3.6.1.4.1.4146.2.2"


def _name(cn: str) -> x509.Name:
    from cryptography import x509
    from cryptography.x509.oid import NameOID

    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, DEMO_LABEL),
            x509.NameAttribute(NameOID.COMMON_NAME, cn),
        ]
    )


@cache
def demo_material() -> tuple[bytes, bytes, bytes]:
    """(CA cert DER, TSA cert DER, TSA key DER), generated once per process."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import ExtendedKeyUsageOID

    now = dt.datetime.now(dt.UTC)
    ca_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    tsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ca_name = _name(f"forensic demo CA — {DEMO_LABEL}")
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=365))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), False)
        .sign(ca_key, hashes.SHA256())
    )
    tsa = (
        x509.CertificateBuilder()
        .subject_name(_name(f"forensic demo TSA — {DEMO_LABEL}"))
        .issuer_name(ca_name)
        .public_key(tsa_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=365))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(True, True, False, False, False, False, False, False, False),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), False
        )
        .sign(ca_key, hashes.SHA256())
    )
    key_der = tsa_key.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    der = serialization.Encoding.DER
    return ca.public_bytes(der), tsa.public_bytes(der), key_der


def demo_tsa() -> TimestampAuthority:
    """The demo TSA (in process, offline). Its tokens are recorded as demo and untrusted."""
    ca_der, _tsa_der, _key_der = demo_material()
    return TimestampAuthority(
        name="demo-tsa",
        url=DEMO_URL,
        roots=(ca_der,),
        policy=DEMO_POLICY,
        demo=True,
    )


__all__ = ["DEMO_LABEL", "DEMO_URL", "demo_tsa"]
