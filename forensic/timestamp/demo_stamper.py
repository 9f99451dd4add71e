"""The demo TSA's signer: pyHanko's dummy TSA, answering in this process.

Its own module so that naming the demo TSA (``forensic.timestamp.demo``) does not load pyHanko;
:func:`forensic.timestamp.token.in_process_stamper` imports it when a demo token is requested.
"""

from __future__ import annotations

from typing import Any

from asn1crypto import cms, core, keys
from asn1crypto import x509 as asn1_x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from pyhanko.sign.general import as_signing_certificate_v2, simple_cms_attribute
from pyhanko.sign.timestamps import DummyTimeStamper

from forensic.timestamp.demo import demo_material


class _DemoStamper(DummyTimeStamper):
    """pyHanko's dummy TSA, with an ESSCertIDv2 (SHA-256) signing-certificate attribute."""

    def _sign_tst_info(
        self, tst_info_data: bytes, md_algorithm: str, dt: Any
    ) -> tuple[bytes, cms.CMSAttributes]:
        from cryptography.hazmat.primitives.asymmetric.padding import PKCS1v15

        digest = hashes.Hash(hashes.SHA256())
        digest.update(tst_info_data)
        attr: Any = simple_cms_attribute  # untyped in pyHanko
        attrs = cms.CMSAttributes(
            [
                attr("content_type", "tst_info"),
                attr("signing_time", cms.Time({"utc_time": core.UTCTime(dt)})),
                attr("signing_certificate_v2", as_signing_certificate_v2(self.tsa_cert)),
                attr("message_digest", digest.finalize()),
            ]
        )
        key = serialization.load_der_private_key(self.tsa_key.dump(), password=None)
        assert isinstance(key, rsa.RSAPrivateKey)
        return key.sign(attrs.dump(), PKCS1v15(), hashes.SHA256()), attrs


def demo_stamper() -> DummyTimeStamper:
    """A signer for the demo TSA's tokens (its certificates are made once per process)."""
    ca_der, tsa_der, key_der = demo_material()
    return _DemoStamper(
        tsa_cert=asn1_x509.Certificate.load(tsa_der),
        tsa_key=keys.PrivateKeyInfo.load(key_der),
        certs_to_embed=[asn1_x509.Certificate.load(ca_der)],  # type: ignore[arg-type]
    )
