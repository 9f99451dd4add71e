"""A page on 127.0.0.1 whose answer the test changes between checks, and a page that imitates
Telegram's answer for a blocked channel (served for the host ``t.me``)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

# Telegram's t.me/s/<channel> page for a channel Telegram blocked, trimmed to its structure.
TELEGRAM_BLOCKED = """<!DOCTYPE html><html><head><meta charset="utf-8">
<title>Telegram: View @evidence_channel</title></head><body class="widget_frame_base">
<div class="tgme_page_wrap"><div class="tgme_page">
<div class="tgme_page_title"><span dir="auto">evidence channel</span></div>
<div class="tgme_page_description">This channel can\u2019t be displayed because it was used
to spread pornographic content.</div></div></div></body></html>"""
# A live channel page (the same markup, with posts): not gone.
TELEGRAM_LIVE = """<!DOCTYPE html><html><head><meta charset="utf-8">
<title>Telegram: View @live_channel</title></head><body>
<div class="tgme_page_title"><span dir="auto">live channel</span></div>
<div class="tgme_widget_message_text">a post</div></body></html>"""


@dataclass
class Answers:
    """What ``/watched`` answers next: (status, body); ``hits`` counts the requests."""

    status: int = 200
    body: str = "<h1>first version</h1>"
    hits: list[str] = field(default_factory=list)


@dataclass
class WatchSite:
    base: str
    port: int
    answers: Answers
    server: ThreadingHTTPServer

    def stop(self) -> None:
        """Close the listening socket: the next check finds the connection refused."""
        self.server.shutdown()
        self.server.server_close()


def _handler(answers: Answers) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            host = (self.headers.get("Host") or "").split(":")[0]
            path = self.path.split("?")[0]
            answers.hits.append(f"{host}{path}")
            if host == "t.me":
                page = TELEGRAM_LIVE if path == "/s/live_channel" else TELEGRAM_BLOCKED
                status, body = 200, page
            elif path == "/watched":
                status, body = answers.status, answers.body
            else:
                status, body = 404, "not found"
            data = f"<!doctype html><html><body>{body}</body></html>".encode()
            if body.startswith("<!DOCTYPE"):
                data = body.encode()
            self.send_response(status)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    return Handler


@contextmanager
def watch_site() -> Iterator[WatchSite]:
    answers = Answers()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(answers))
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    port = server.server_address[1]
    site = WatchSite(f"http://127.0.0.1:{port}", port, answers, server)
    try:
        yield site
    finally:
        site.stop()
