"""endpoint: real local HTTP and HTTPS servers (a self-signed certificate made with openssl)."""

from __future__ import annotations

import shutil
import socket
import ssl
import subprocess
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from engine.checks.base import CheckContext, CheckError
from engine.checks.endpoint import EndpointCheck, Probe, display_url, judge, url_problem

NOW = datetime(2025, 1, 1, tzinfo=UTC)


class _Handler(BaseHTTPRequestHandler):
    release = threading.Event()
    seen_auth: list[str] = []

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        if self.path == "/slow":
            self.release.wait(10)
        if self.headers.get("Authorization"):
            self.seen_auth.append(self.headers["Authorization"])
        status = 500 if self.path == "/fail" else 404 if self.path == "/missing" else 200
        body = b"hello"
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


def _serve(server: ThreadingHTTPServer) -> Iterator[str]:
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    try:
        yield f"127.0.0.1:{server.server_address[1]}"
    finally:
        _Handler.release.set()
        server.shutdown()
        server.server_close()
        thread.join(5)
        _Handler.release.clear()


@pytest.fixture
def http_server() -> Iterator[str]:
    """host:port of a plain HTTP server: /fail answers 500, /missing 404, /slow waits, else 200."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.daemon_threads = True
    yield from _serve(server)


@pytest.fixture(scope="module")
def cert_files(tmp_path_factory) -> tuple[Path, Path]:
    """A self-signed certificate for localhost/127.0.0.1 that expires in 3 days, and its key."""
    if shutil.which("openssl") is None:
        pytest.skip("the openssl command is not installed; cannot make a test certificate")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "3",
         "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True, timeout=60,
    )
    return cert, key


@pytest.fixture
def https_server(cert_files) -> Iterator[str]:
    """host:port of an HTTPS server presenting the 3-day self-signed certificate."""
    cert, key = cert_files
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.daemon_threads = True
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    yield from _serve(server)


@pytest.fixture
def closed_port() -> int:
    """A local port nothing listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _run(urls: list[str], **params) -> list:
    defaults = {"urls": urls, "timeout_seconds": 5.0, "cert_expiry_days": 14, "max_status": 399,
                "ca_file": ""}
    ctx = CheckContext(db=None, now=datetime.now(UTC), params={**defaults, **params}, name="endpoint")
    return EndpointCheck().evaluate(ctx)


def test_healthy_http_endpoint_has_no_findings(http_server):
    assert _run([f"http://{http_server}/"]) == []


def test_status_500_is_down_with_the_url_as_subject(http_server):
    url = f"http://{http_server}/fail"
    (finding,) = _run([url])
    assert finding.subject == url
    assert finding.severity == "critical"
    assert "HTTP 500" in finding.title


def test_max_status_decides_what_counts_as_down(http_server):
    url = f"http://{http_server}/missing"
    assert len(_run([url])) == 1
    assert _run([url], max_status=404) == []


def test_connection_refused_is_down(closed_port):
    url = f"http://127.0.0.1:{closed_port}/"
    (finding,) = _run([url])
    assert finding.subject == url
    assert finding.detail == "connection refused"


def test_slow_endpoint_times_out_and_is_down(http_server):
    url = f"http://{http_server}/slow"
    (finding,) = _run([url], timeout_seconds=0.3)
    assert finding.subject == url
    assert "no answer within 0.3 s" in finding.detail


def test_each_url_is_judged_on_its_own(http_server, closed_port):
    ok, bad = f"http://{http_server}/", f"http://127.0.0.1:{closed_port}/"
    assert [f.subject for f in _run([ok, bad, ok])] == [bad]


def test_credentials_are_sent_but_never_shown(http_server):
    _Handler.seen_auth.clear()
    findings = _run([f"http://me:s3cret@{http_server}/fail"])
    assert _Handler.seen_auth == ["Basic bWU6czNjcmV0"]
    assert findings and all("s3cret" not in f.subject + f.title + f.detail for f in findings)


def test_certificate_expiring_within_the_window_is_reported(https_server, cert_files):
    url = f"https://{https_server}/"
    (finding,) = _run([url], ca_file=str(cert_files[0]))
    assert finding.subject == f"{url}#cert"
    assert finding.severity == "warning"
    assert "expires in 2." in finding.title or "expires in 3.0" in finding.title
    expected_day = (datetime.now(UTC) + timedelta(days=3)).strftime("%Y-%m-%d")
    assert f"expires {expected_day}" in finding.detail


def test_certificate_outside_the_window_is_not_reported(https_server, cert_files):
    assert _run([f"https://{https_server}/"], ca_file=str(cert_files[0]), cert_expiry_days=1) == []


def test_https_server_error_reports_down_and_expiry(https_server, cert_files):
    url = f"https://{https_server}/fail"
    findings = _run([url], ca_file=str(cert_files[0]))
    assert sorted(f.subject for f in findings) == [url, f"{url}#cert"]


def test_untrusted_certificate_is_reported_with_the_reason(https_server):
    url = f"https://{https_server}/"
    (finding,) = _run([url])
    assert finding.subject == url
    assert finding.title.startswith("TLS certificate not trusted: ")
    assert "self-signed" in finding.title or "self signed" in finding.title


def test_unusable_ca_file_is_a_check_error(tmp_path, http_server):
    with pytest.raises(CheckError, match="ca_file"):
        _run([f"http://{http_server}/"], ca_file=str(tmp_path / "nope.pem"))


def test_expired_certificate_judged_as_expired():
    probe = Probe(status=200, cert_expires=NOW - timedelta(days=2))
    (finding,) = judge("https://x.test/", probe, NOW, max_status=399, cert_expiry_days=14)
    assert finding.subject == "https://x.test/#cert"
    assert "expired" in finding.title


def test_no_urls_means_no_findings():
    assert _run([]) == []


@pytest.mark.parametrize(("url", "problem"), [
    ("ftp://example.com/", "scheme"),
    ("example.com", "scheme"),
    ("https:///path", "no host"),
    ("http://example.com:99999/", "out of range"),
])
def test_url_problems_are_named(url, problem):
    assert problem in (url_problem(url) or "")


def test_urls_are_validated_at_config_time():
    assert EndpointCheck.validate_params({"urls": ["https://example.com/health"]}) == []
    (problem,) = EndpointCheck.validate_params({"urls": ["https://ok.test/", "ftp://files.test/"]})
    assert "http:// or https://" in problem and "ftp://files.test/" in problem


def test_password_hidden_in_display_url():
    assert display_url("https://u:pw@h.test:8443/x?y=1") == "https://u:***@h.test:8443/x?y=1"
    assert display_url("https://h.test/") == "https://h.test/"
