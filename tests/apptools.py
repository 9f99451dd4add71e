"""The real ``forensic app`` server in a thread, and a plain HTTP client for it."""

from __future__ import annotations

import http.client
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

from forensic.session import Session


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")


@dataclass
class AppClient:
    """Requests as a browser on this machine would send them (or, with overrides, would not)."""

    port: int
    token: str
    csrf: str
    cookie: str | None = None
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def request(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> Answer:
        sent = {"Host": f"127.0.0.1:{self.port}"}
        if self.cookie:
            sent["Cookie"] = self.cookie
        if method == "POST":
            sent["Origin"] = self.origin
        sent.update(headers or {})
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            conn.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
            for name, value in sent.items():
                if value != "":
                    conn.putheader(name, value)
            if body is not None:
                conn.putheader("Content-Length", str(len(body)))
            conn.endheaders(body)
            resp = conn.getresponse()
            return Answer(resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read())
        finally:
            conn.close()

    def login(self) -> Answer:
        answer = self.request("GET", f"/?token={self.token}")
        self.cookie = answer.headers["set-cookie"].split(";", 1)[0]
        return answer

    def post(
        self, path: str, form: dict[str, str], headers: dict[str, str] | None = None
    ) -> Answer:
        body = urlencode(form).encode()
        sent = {"Content-Type": "application/x-www-form-urlencoded", **(headers or {})}
        return self.request("POST", path, body, sent)

    def upload(
        self,
        files: list[tuple[str, bytes]],
        fields: dict[str, str],
        headers: dict[str, str] | None = None,
    ) -> Answer:
        boundary = uuid.uuid4().hex
        parts = []
        for name, value in fields.items():
            head = f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'
            parts.append(f"{head}{value}\r\n".encode())
        for filename, data in files:
            head = (
                f'--{boundary}\r\nContent-Disposition: form-data; name="files"; '
                f'filename="{filename}"\r\nContent-Type: application/octet-stream\r\n\r\n'
            )
            parts.append(head.encode() + data + b"\r\n")
        body = b"".join(parts) + f"--{boundary}--\r\n".encode()
        sent = {"Content-Type": f"multipart/form-data; boundary={boundary}", **(headers or {})}
        return self.request("POST", "/evidence/upload", body, sent)


@contextmanager
def running_app(case_dir: Path | None, lang: str = "ko") -> Iterator[tuple[object, AppClient]]:
    """The app on 127.0.0.1, port 0, with a fresh session (no passphrase until one is typed)."""
    from forensic.webapp.server import AppServer

    server = AppServer(Session.default(lang=lang, verb="app"), case_dir, 0)
    server.start()
    try:
        guard = server.state.guard
        yield server, AppClient(server.port, guard.token, guard.csrf)
    finally:
        server.stop()
