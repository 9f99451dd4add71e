"""A local test web site on 127.0.0.1 over HTTP and HTTPS (self-signed, made here): a page
with images, a redirect, a slow resource, a redirect loop, a 500 and a page that hangs."""

from __future__ import annotations

import datetime
import ipaddress
import ssl
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from forensic.demo import encode_rgb_png

MARKER = "EVIDENCE-PAGE-7731"
KOREAN = "불법촬영물 유포 증거"


def png(width: int, height: int, rgb: tuple[int, int, int]) -> bytes:
    return encode_rgb_png(
        width, height, b"".join(b"\x00" + bytes(rgb) * width for _ in range(height))
    )


RED = png(40, 30, (220, 20, 20))
SLOW = png(20, 20, (20, 20, 220))
LAZY = png(24, 24, (20, 180, 20))
PAGE = f"""<!doctype html><html lang="ko"><head><meta charset="utf-8"><title>{MARKER}</title>
</head><body style="background:#fff;font-size:28px">
<h1>{MARKER}</h1><p>{KOREAN}</p>
<img src="/red.png" width="40" height="30"><img src="/slow.png" width="20" height="20">
<div style="height:6000px"></div><img src="/lazy.png" loading="lazy" width="24" height="24">
<script>document.body.insertAdjacentHTML('beforeend', '<p id="js">rendered-by-script</p>')
</script></body></html>""".encode()


class Handler(BaseHTTPRequestHandler):
    slow_seconds = 1.0

    def log_message(self, format: str, *args: object) -> None:
        pass

    def send(self, status: int, body: bytes, ctype: str, extra: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("X-Test-Server", "forensic-tests")
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        path = self.path.split("?")[0]
        if path == "/page":
            self.send(200, PAGE, "text/html; charset=utf-8")
        elif path == "/red.png":
            self.send(200, RED, "image/png")
        elif path == "/lazy.png":
            self.send(200, LAZY, "image/png")
        elif path == "/slow.png":
            time.sleep(self.slow_seconds)
            self.send(200, SLOW, "image/png")
        elif path == "/redirect":
            self.send(302, b"", "text/plain", {"Location": "/page"})
        elif path.startswith("/loop"):
            self.send(302, b"", "text/plain", {"Location": "/loop"})
        elif path == "/error":
            self.send(500, b"<h1>Internal Server Error 500</h1>", "text/html")
        elif path == "/hang":
            time.sleep(20)
            self.send(200, b"late", "text/plain")
        else:
            self.send(404, b"not found", "text/plain")


@dataclass
class Site:
    http: str
    https: str
    cert_pem: bytes


def self_signed(directory: Path) -> tuple[Path, Path, bytes]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "forensic-test-site")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    cert_pem = cert.public_bytes(serialization.Encoding.PEM)
    cpath, kpath = directory / "cert.pem", directory / "key.pem"
    cpath.write_bytes(cert_pem)
    kpath.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cpath, kpath, cert_pem


@contextmanager
def serve(directory: Path) -> Iterator[Site]:
    plain = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    secure = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    cpath, kpath, cert_pem = self_signed(directory)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cpath, kpath)
    secure.socket = ctx.wrap_socket(secure.socket, server_side=True)
    for srv in (plain, secure):
        srv.daemon_threads = True
        threading.Thread(target=srv.serve_forever, daemon=True).start()
    try:
        yield Site(
            f"http://127.0.0.1:{plain.server_address[1]}",
            f"https://127.0.0.1:{secure.server_address[1]}",
            cert_pem,
        )
    finally:
        for srv in (plain, secure):
            srv.shutdown()
            srv.server_close()
