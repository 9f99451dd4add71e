"""Web pages as evidence: ``forensic capture URL``.

Headless Chromium (driven by Playwright through ``executable_path``: no browser download) loads
the page once; from that one visit the capture keeps, as one capture group of kind ``web``:

* ``screenshot.png``: a full-page screenshot as rendered;
* ``rendered.html``: the DOM after scripts ran (``page.content()``);
* ``traffic.warc.gz``: a WARC 1.1 file of the HTTP(S) exchanges the browser reported
  (request and response headers as Chromium saw them, decoded bodies; see docs/web-capture.md);
* ``capture.json``: requested and final URL, redirect chain with each hop's status and headers,
  server IP and port, TLS parameters, certificate chain and its verification result, capture
  time, browser and library versions;
* ``certificates.pem``: the certificate chain Chromium received (HTTPS only).

A page with an invalid certificate is captured anyway and the problem is recorded (evidence
sites often have bad certificates; what the user saw is what matters). A page that times out,
redirects forever or cannot be reached is a clear error and nothing is written. A 4xx/5xx
answer is captured (it is what the server said) with a warning.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import io
import json
import shutil
import socket
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from forensic._internal.child_env import child_environment
from forensic._internal.clock import utc_timestamp
from forensic.capture._staged import Generated, GeneratedResult, acquire_generated
from forensic.capture.sources import (
    CaptureInput,
    FetchedCapture,
    FetchedSource,
    FetchOptions,
    ReportLine,
    SourceRegistry,
)
from forensic.capture.web_errors import WebError as WebError
from forensic.capture.web_errors import WebUsageError as WebUsageError
from forensic.case.case import Case
from forensic.custody.keys import ExaminerKey
from forensic.i18n import message
from forensic.progress import SILENT, ProgressReporter

CHROMIUM_ARGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
SCROLL_JS = """async () => {
  const step = Math.max(200, window.innerHeight);
  for (let i = 0, y = 0; i < 60 && y < document.documentElement.scrollHeight; i++, y += step) {
    window.scrollTo(0, y);
    await new Promise((r) => setTimeout(r, 80));
  }
  window.scrollTo(0, 0);
}"""
BROWSER_CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")

#: What a web capture does and does not establish (quoted by reports; docs/web-capture.md).
PROVES = "web.proves"
DOES_NOT_PROVE = "web.does_not_prove"


@dataclass(frozen=True)
class WebOptions:
    timeout: float = 30.0
    settle: float = 1.0
    width: int = 1280
    height: int = 800
    note: str | None = None
    browser: str | None = None
    resolver_rules: str | None = None
    """Chromium's ``--host-resolver-rules`` (tests map a platform's host name to 127.0.0.1)."""


@dataclass(frozen=True)
class WebCaptureResult:
    url: str
    final_url: str
    status: int
    capture: GeneratedResult
    metadata: dict[str, Any]
    warnings: list[tuple[str, dict[str, str]]] = field(default_factory=list)

    @property
    def screenshot(self) -> str:
        return self._by_name("screenshot.png")

    def _by_name(self, name: str) -> str:
        for a in self.capture.acquired:
            if a.path.endswith(b":" + name.encode()):
                return str(a.item_id)
        raise KeyError(name)


def is_web_url(text: str) -> bool:
    return text.lower().startswith(("http://", "https://"))


def check_url(url: str) -> tuple[str, str, int]:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise WebUsageError("bad_url", url=url)
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise WebUsageError("bad_url", url=url) from None
    return parts.scheme, parts.hostname, port


def find_browser(explicit: str | None = None) -> str:
    import os

    candidates = [explicit] if explicit else []
    env = os.environ.get("FORENSIC_CHROMIUM")
    if env and not explicit:
        candidates.append(env)
    for name in (*candidates, *([] if explicit else BROWSER_CANDIDATES)):
        if name is None:
            continue
        found = shutil.which(name)
        if found:
            return found
    raise WebError("no_browser", names=", ".join(c for c in candidates if c) or "chromium")


def _library_versions() -> dict[str, str]:
    import ssl
    from importlib.metadata import PackageNotFoundError, version

    out: dict[str, str] = {}
    for dist in ("playwright", "warcio"):
        try:
            out[dist] = version(dist)
        except PackageNotFoundError:
            out[dist] = "missing"
    out["openssl"] = ssl.OPENSSL_VERSION
    return out


def _pem(der: bytes) -> str:
    import ssl

    return ssl.DER_cert_to_PEM_cert(der)


def _cert_summary(der: bytes) -> dict[str, Any]:
    from cryptography import x509

    cert = x509.load_der_x509_certificate(der)
    return {
        "subject": cert.subject.rfc4514_string(),
        "issuer": cert.issuer.rfc4514_string(),
        "serial": format(cert.serial_number, "x"),
        "not_before": cert.not_valid_before_utc.isoformat(),
        "not_after": cert.not_valid_after_utc.isoformat(),
        "sha256": hashlib.sha256(der).hexdigest(),
    }


def probe_tls(host: str, port: int, timeout: float) -> dict[str, Any]:
    """Verify the server's certificate against the system trust store (a second connection)."""
    import ssl

    record: dict[str, Any] = {
        "method": "second TLS connection from Python after the page load, system trust store",
        "openssl": ssl.OPENSSL_VERSION,
    }
    ctx = ssl.create_default_context()
    try:
        with (
            socket.create_connection((host, port), timeout=timeout) as sock,
            ctx.wrap_socket(sock, server_hostname=host) as tls,
        ):
            der = tls.getpeercert(binary_form=True)
            record.update({"verified": True, "protocol": tls.version()})
    except ssl.SSLCertVerificationError as exc:
        record.update({"verified": False, "error": exc.verify_message or str(exc)})
        der = None
        nctx = ssl.create_default_context()
        nctx.check_hostname = False
        nctx.verify_mode = ssl.CERT_NONE
        try:
            with (
                socket.create_connection((host, port), timeout=timeout) as sock,
                nctx.wrap_socket(sock, server_hostname=host) as tls,
            ):
                der = tls.getpeercert(binary_form=True)
        except OSError:
            pass
    except OSError as exc:
        record.update({"verified": None, "error": f"probe failed: {exc}"})
        der = None
    if der:
        record["leaf_sha256"] = hashlib.sha256(der).hexdigest()
    return record


def _clean_error(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    first = text[0] if text else type(exc).__name__
    return first.removeprefix("Error: ").removeprefix("Page.goto: ")


def _headers_list(headers: Any) -> list[tuple[str, str]]:
    return [(h["name"], h["value"]) for h in headers]


@dataclass
class _Exchange:
    """One request and its response, copied out of the browser while it is still open."""

    url: str
    method: str
    request_headers: list[tuple[str, str]]
    post: bytes
    status: int
    status_text: str
    response_headers: list[tuple[str, str]]
    time: str
    server_ip: str | None
    body: bytes
    body_error: str | None


def _snapshot(req: Any, resp: Any, when: str, error_type: type[Exception]) -> _Exchange:
    try:
        req_headers = _headers_list(req.headers_array())
    except error_type:
        req_headers = list(req.headers.items())
    try:
        resp_headers = _headers_list(resp.headers_array())
    except error_type:
        resp_headers = list(resp.headers.items())
    body_error = None
    try:
        body = resp.body()
    except error_type as exc:
        body, body_error = b"", _clean_error(exc)
    try:
        addr = resp.server_addr()
    except error_type:
        addr = None
    return _Exchange(
        url=req.url,
        method=req.method,
        request_headers=req_headers,
        post=req.post_data_buffer or b"",
        status=resp.status,
        status_text=resp.status_text or "",
        response_headers=resp_headers,
        time=when,
        server_ip=addr["ipAddress"] if addr else None,
        body=body,
        body_error=body_error,
    )


def _build_warc(exchanges: list[_Exchange], info: dict[str, Any]) -> bytes:
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    buf = io.BytesIO()
    writer = WARCWriter(buf, gzip=True, warc_version="WARC/1.1")
    writer.write_record(writer.create_warcinfo_record("traffic.warc.gz", info))
    for ex in exchanges:
        parts = urlsplit(ex.url)
        path = parts.path or "/"
        if parts.query:
            path += "?" + parts.query
        req_sh = StatusAndHeaders(
            f"{ex.method} {path} HTTP/1.1", ex.request_headers, is_http_request=True
        )
        request_record = writer.create_warc_record(
            ex.url,
            "request",
            payload=io.BytesIO(ex.post),
            http_headers=req_sh,
            warc_headers_dict={"WARC-Date": ex.time},
        )
        body = ex.body
        kept: list[tuple[str, str]] = []
        for name, value in ex.response_headers:
            low = name.lower()
            if low in ("content-encoding", "transfer-encoding", "content-length"):
                kept.append((f"X-Archive-Orig-{name}", value))
            else:
                kept.append((name, value))
        kept.append(("Content-Length", str(len(body))))
        resp_sh = StatusAndHeaders(
            f"{ex.status} {ex.status_text}".strip(), kept, protocol="HTTP/1.1"
        )
        warc_headers = {"WARC-Date": ex.time}
        if ex.server_ip:
            warc_headers["WARC-IP-Address"] = ex.server_ip
        if ex.body_error:
            warc_headers["WARC-Truncated"] = "unspecified"
        response_record = writer.create_warc_record(
            ex.url,
            "response",
            payload=io.BytesIO(body),
            http_headers=resp_sh,
            warc_headers_dict=warc_headers,
        )
        writer.write_record(response_record)
        request_record.rec_headers.add_header(
            "WARC-Concurrent-To", response_record.rec_headers.get_header("WARC-Record-ID")
        )
        writer.write_record(request_record)
    return buf.getvalue()


def _navigation_error(exc: BaseException, url: str, timeout: float) -> WebError:
    text = _clean_error(exc)
    name = type(exc).__name__
    if name == "TimeoutError" or ("Timeout" in text and "exceeded" in text):
        return WebError("timeout", url=url, seconds=f"{timeout:g}")
    if "ERR_TOO_MANY_REDIRECTS" in text:
        return WebError("redirect_loop", url=url)
    if "ERR_NAME_NOT_RESOLVED" in text:
        return WebError("unresolved", url=url)
    for marker in ("net::ERR_", "NS_ERROR"):
        if marker in text:
            code = text[text.index(marker) :].split()[0]
            return WebError("unreachable", url=url, reason=code)
    return WebError("unreachable", url=url, reason=text)


VISIBLE_TEXT_JS = "() => document.body ? document.body.innerText : ''"
"""What a person reads on the page (``watch`` compares it between checks)."""

PAGE_SIZE_JS = """() => [
  Math.max(document.documentElement.scrollWidth, document.body ? document.body.scrollWidth : 0),
  Math.max(document.documentElement.scrollHeight, document.body ? document.body.scrollHeight : 0),
]"""


def _bounded_screenshot(page: Any, timeout_ms: float) -> tuple[bytes, dict[str, int] | None]:
    """The full-page screenshot, within the one decompression-bomb policy: a page larger than
    the pixels decoded at once is shot down to the height that fits (and the record says so),
    so no screenshot this tool makes is one its own readers refuse."""
    from forensic.media.safe import MAX_DECODED_PIXELS

    width, height = (max(1, int(v)) for v in page.evaluate(PAGE_SIZE_JS))
    if width * height <= MAX_DECODED_PIXELS:
        return page.screenshot(full_page=True, type="png", timeout=timeout_ms), None
    kept = max(1, MAX_DECODED_PIXELS // width)
    clip = {"x": 0, "y": 0, "width": min(width, MAX_DECODED_PIXELS), "height": kept}
    shot = page.screenshot(full_page=True, type="png", timeout=timeout_ms, clip=clip)
    return shot, {"width": width, "height": height, "kept": kept, "limit": MAX_DECODED_PIXELS}


def _resolver_args(options: WebOptions) -> list[str]:
    return [f"--host-resolver-rules={options.resolver_rules}"] if options.resolver_rules else []


def _visit(url: str, options: WebOptions, browser_path: str) -> dict[str, Any]:
    """Load the page once and collect everything in memory."""
    try:
        from playwright.sync_api import Error as PlaywrightError
        from playwright.sync_api import sync_playwright
    except ImportError as exc:
        raise WebError("no_playwright", reason=str(exc)) from exc
    raw: list[tuple[Any, Any, str]] = []
    timeout_ms = max(1.0, options.timeout) * 1000
    started = utc_timestamp()
    t0 = time.monotonic()
    browser_env: dict[str, str | float | bool] = {**child_environment()}
    with sync_playwright() as pw:
        try:
            browser = pw.chromium.launch(
                executable_path=browser_path,
                headless=True,
                args=[*CHROMIUM_ARGS, *_resolver_args(options)],
                timeout=60_000,
                env=browser_env,  # the allow-list: no passphrase reaches the browser
            )
        except PlaywrightError as exc:
            raise WebError("browser_failed", path=browser_path, reason=_clean_error(exc)) from exc
        try:
            context = browser.new_context(
                ignore_https_errors=True,
                viewport={"width": options.width, "height": options.height},
                service_workers="block",
            )
            page = context.new_page()
            cdp = context.new_cdp_session(page)
            cdp.send("Network.enable")

            def on_response(resp: Any) -> None:
                raw.append((resp.request, resp, utc_timestamp()))

            page.on("response", on_response)
            try:
                response = page.goto(url, wait_until="load", timeout=timeout_ms)
            except PlaywrightError as exc:
                raise _navigation_error(exc, url, options.timeout) from exc
            if response is None:
                raise WebError("unreachable", url=url, reason="no response")
            # Scroll through the page once so lazily loaded images (t.me/s channel pages use
            # them) are fetched before the full-page screenshot; then back to the top.
            with contextlib.suppress(PlaywrightError):
                page.evaluate(SCROLL_JS)
            left = timeout_ms - (time.monotonic() - t0) * 1000
            # Long-polling pages never go idle; the load event has fired already.
            with contextlib.suppress(PlaywrightError):
                page.wait_for_load_state("networkidle", timeout=max(500.0, min(left, 5000.0)))
            if options.settle > 0:
                page.wait_for_timeout(options.settle * 1000)
            loaded = utc_timestamp()
            try:
                screenshot, clipped = _bounded_screenshot(page, timeout_ms)
                html = page.content()
                title = page.title()
                text = str(page.evaluate(VISIBLE_TEXT_JS) or "")
            except PlaywrightError as exc:
                raise WebError("render_failed", url=url, reason=_clean_error(exc)) from exc
            final_url = page.url
            # The redirect chain of the main document, first hop first.
            chain: list[dict[str, Any]] = []
            hops = []
            req: Any = response.request
            while req is not None:
                hops.append(req)
                req = req.redirected_from
            for hop in reversed(hops):
                hop_resp = hop.response() if hop is not response.request else response
                if hop_resp is None:
                    continue
                hop_record: dict[str, Any] = {
                    "url": hop.url,
                    "method": hop.method,
                    "status": hop_resp.status,
                    "status_text": hop_resp.status_text,
                    "headers": [list(h) for h in _headers_list(hop_resp.headers_array())],
                }
                addr = hop_resp.server_addr()
                if addr:
                    hop_record["server"] = {"ip": addr["ipAddress"], "port": addr["port"]}
                chain.append(hop_record)
            server = response.server_addr()
            security = response.security_details()
            cert_chain: list[bytes] = []
            if urlsplit(final_url).scheme == "https":
                parts = urlsplit(final_url)
                origin = f"https://{parts.netloc}"
                try:
                    got = cdp.send("Network.getCertificate", {"origin": origin})
                    cert_chain = [base64.b64decode(c) for c in got.get("tableNames", [])]
                except PlaywrightError:
                    cert_chain = []
            exchanges = [_snapshot(q, r, when, PlaywrightError) for q, r, when in raw]
            browser_version = browser.version
            user_agent = page.evaluate("navigator.userAgent")
        finally:
            browser.close()
    return {
        "started": started,
        "loaded": loaded,
        "finished": utc_timestamp(),
        "response": {"status": response.status, "status_text": response.status_text},
        "final_url": final_url,
        "title": title,
        "chain": chain,
        "server": {"ip": server["ipAddress"], "port": server["port"]} if server else None,
        "security": dict(security) if security else None,
        "cert_chain": cert_chain,
        "screenshot": screenshot,
        "screenshot_clipped": clipped,
        "html": html,
        "text": text,
        "exchanges": exchanges,
        "browser_version": browser_version,
        "user_agent": user_agent,
    }


def capture_url(
    case: Case,
    key: ExaminerKey,
    url: str,
    options: WebOptions | None = None,
    progress: ProgressReporter = SILENT,
) -> WebCaptureResult:
    """Capture one web page into the case as one ``web`` capture group."""
    options = options or WebOptions()
    check_url(url)
    case.check_key(key)
    return store_visit(case, key, visit_page(url, options), options, progress)


@dataclass(frozen=True)
class PageVisit:
    """One browser visit of a page, held in memory (nothing written yet)."""

    url: str
    browser_path: str
    seen: dict[str, Any]

    @property
    def status(self) -> int:
        return int(self.seen["response"]["status"])

    @property
    def final_url(self) -> str:
        return str(self.seen["final_url"])

    @property
    def text(self) -> str:
        """The page's visible text (``innerText``)."""
        return str(self.seen.get("text") or "")

    @property
    def html(self) -> str:
        return str(self.seen["html"])


def visit_page(url: str, options: WebOptions) -> PageVisit:
    """Load ``url`` once in the browser (no case lock held; nothing written)."""
    check_url(url)
    browser_path = find_browser(options.browser)
    return PageVisit(url, browser_path, _visit(url, options, browser_path))


def store_visit(
    case: Case,
    key: ExaminerKey,
    visit: PageVisit,
    options: WebOptions | None = None,
    progress: ProgressReporter = SILENT,
) -> WebCaptureResult:
    """Store one visit as a ``web`` capture group (screenshot, DOM, WARC, TLS record)."""
    options = options or WebOptions()
    url, browser_path, seen = visit.url, visit.browser_path, visit.seen
    versions = _library_versions()
    final = urlsplit(seen["final_url"])
    tls: dict[str, Any] | None = None
    warnings: list[tuple[str, dict[str, str]]] = []
    if final.scheme == "https" and final.hostname:
        final_port = final.port or 443
        tls = {
            "browser_view": seen["security"],
            "chain": [_cert_summary(der) for der in seen["cert_chain"]],
            "verification": probe_tls(final.hostname, final_port, min(10.0, options.timeout)),
        }
        verification = tls["verification"]
        if tls["chain"] and verification.get("leaf_sha256"):
            tls["verification"]["same_leaf_as_browser"] = (
                verification["leaf_sha256"] == tls["chain"][0]["sha256"]
            )
        if verification.get("verified") is not True:
            tls["problem"] = verification.get("error", "not verified")
            warnings.append(
                ("web.cert_problem", {"url": seen["final_url"], "reason": str(tls["problem"])})
            )
    status = int(seen["response"]["status"])
    if status >= 400:
        warnings.append(("web.http_error", {"url": seen["final_url"], "status": str(status)}))
    metadata: dict[str, Any] = {
        "format": "forensic-web-capture",
        "v": 1,
        "requested_url": url,
        "final_url": seen["final_url"],
        "title": seen["title"],
        "http_status": status,
        "status_text": seen["response"]["status_text"],
        "redirect_chain": seen["chain"],
        "server": seen["server"],
        "tls": tls,
        "capture_started": seen["started"],
        "page_loaded": seen["loaded"],
        "capture_finished": seen["finished"],
        "browser": {
            "path": browser_path,
            "version": seen["browser_version"],
            "user_agent": seen["user_agent"],
            "args": [*CHROMIUM_ARGS, *_resolver_args(options)],
            "viewport": {"width": options.width, "height": options.height},
            "ignore_https_errors": True,
        },
        "libraries": versions,
        "resources": len(seen["exchanges"]),
        "limits": {
            "proves": message(PROVES, "en"),
            "does_not_prove": message(DOES_NOT_PROVE, "en"),
        },
    }
    clipped = seen.get("screenshot_clipped")
    if clipped is not None:
        note = message("media_bounds.screenshot_clipped", "en", **clipped)
        metadata["screenshot_clipped"] = {**clipped, "note": note}
    warc_info = {
        "software": f"forensic (Playwright {versions['playwright']}, warcio {versions['warcio']})",
        "browser": f"Chromium {seen['browser_version']}",
        "format": "WARC File Format 1.1",
        "description": "Exchanges as reported by the browser: headers as Chromium saw them, "
        "bodies decoded (Content-Encoding removed, original header kept as X-Archive-Orig-*).",
        "isPartOf": url,
    }
    warc = _build_warc(seen["exchanges"], warc_info)
    created = seen["finished"]
    src = {"url": url, "final_url": seen["final_url"]}
    files = [
        Generated("screenshot.png", seen["screenshot"], None, seen["loaded"], src),
        Generated("rendered.html", seen["html"].encode("utf-8"), "text/html", seen["loaded"], src),
        Generated("traffic.warc.gz", warc, "application/warc", created, src),
    ]
    if seen["cert_chain"]:
        pem = "".join(_pem(der) for der in seen["cert_chain"]).encode("ascii")
        files.append(Generated("certificates.pem", pem, "application/x-pem-file", created, src))
    meta_bytes = json.dumps(metadata, ensure_ascii=False, indent=2, sort_keys=True).encode()
    files.append(Generated("capture.json", meta_bytes, "application/json", created, src))
    group_details = {
        "url": url,
        "final_url": seen["final_url"],
        "http_status": status,
        "server": seen["server"],
        "tls_problem": tls.get("problem") if tls else None,
        "capture_started": seen["started"],
        "capture_finished": seen["finished"],
        "browser_version": seen["browser_version"],
        "libraries": versions,
        "limits": metadata["limits"],
    }
    common: dict[str, Any] = {"source_url": url}
    if options.note:
        common["note"] = options.note
    result = acquire_generated(case, key, "web", group_details, files, common, progress)
    return WebCaptureResult(url, seen["final_url"], status, result, metadata, warnings)


class WebPage(FetchedSource):
    """An ``http(s)://`` address: the page as one browser visit saw it (fetched, then stored)."""

    name = "web"

    def claims(self, given: CaptureInput) -> bool:
        return given.argument is not None and is_web_url(given.text)

    def check(self, given: CaptureInput) -> None:
        check_url(given.text)

    def label(self, given: CaptureInput) -> dict[str, Any]:
        return {"url": given.text}

    def acquire(
        self,
        case: Case,
        key: ExaminerKey,
        given: CaptureInput,
        options: FetchOptions,
        progress: ProgressReporter,
    ) -> FetchedCapture:
        web = WebOptions(timeout=options.timeout, note=options.note)
        return _fetched(capture_url(case, key, given.text, web, progress), options.lang)


def _fetched(result: WebCaptureResult, lang: str) -> FetchedCapture:
    """The ``web`` member of ``capture --json`` for one page, and what a person is told."""
    warnings = [message(k, lang, **p) for k, p in result.warnings]
    items = [
        {
            "sha256": a.item_id,
            "name": a.path.decode().split(":", 1)[1],
            "size": a.size,
            "media_type": a.media_type,
            "new_object": a.new_object,
            "seq": a.seq,
        }
        for a in result.capture.acquired
    ]
    entry: dict[str, Any] = {
        "url": result.url,
        "final_url": result.final_url,
        "http_status": result.status,
        "group": result.capture.group_id,
        "run": result.capture.run_id,
        "recovered": None,
        "server": result.metadata["server"],
        "tls_problem": (result.metadata["tls"] or {}).get("problem"),
        "warnings": warnings,
        "items": items,
        "limits": result.metadata["limits"],
    }
    captured = message(
        "web.captured",
        lang,
        url=result.url,
        final_url=result.final_url,
        status=result.status,
        count=len(items),
        group=result.capture.group_id,
    )
    said: list[ReportLine] = [("say", captured)]
    said += [("say", f"  {i['sha256']}  {i['name']}  {i['size']} B") for i in items]
    said += [("warn", text) for text in warnings]
    said.append(("say", message(DOES_NOT_PROVE, lang)))
    readable = tuple(
        str(a.item_id)
        for a in result.capture.acquired
        if a.path.endswith((b":screenshot.png", b":rendered.html"))
    )
    return FetchedCapture(entry, result.capture.recovery, readable, tuple(said))


def register(registry: SourceRegistry) -> None:
    registry.register(WebPage())
