"""endpoint: a watched HTTP(S) endpoint is down or its TLS certificate expires soon.

Stdlib only (http.client + ssl). URLs are probed in parallel threads, each socket operation
bounded by ``timeout_seconds``, and the evaluation waits at most ``timeout_seconds`` plus a short
grace: a probe still running then (a hung DNS lookup, a trickling server) is abandoned and
reported as down.

Subjects: the URL (down, or certificate not trusted) and ``URL#cert`` (certificate expiring).
Credentials in a URL (``https://user:pass@host``) are sent as basic auth but never shown.
"""

from __future__ import annotations

import base64
import concurrent.futures
import http.client
import ssl
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from typing import Any
from urllib.parse import SplitResult, unquote, urlsplit

from engine.checks.base import CheckContext, CheckError, CheckKind, Param, timeout_seconds
from engine.findings import Finding
from engine.timeutil import human_time
from engine.vocabulary import Severity

_MAX_WORKERS = 32
_GRACE_SECONDS = 2.0


def _urls(value: Any) -> str | None:
    for url in value:
        if not isinstance(url, str):
            return "a list of http:// or https:// URLs"
        problem = url_problem(url)
        if problem:
            return f"a list of http:// or https:// URLs ({display_url(url)!r}: {problem})"
    return None


def _days(value: Any) -> str | None:
    return None if isinstance(value, int) and 0 <= value <= 3650 else "a whole number of days from 0 to 3650"


def _status(value: Any) -> str | None:
    return None if isinstance(value, int) and 100 <= value <= 599 else "an HTTP status from 100 to 599"


def url_problem(url: str) -> str | None:
    """Why ``url`` cannot be probed, or None when it is a usable http(s) URL."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError as exc:
        return str(exc)
    if parts.scheme not in ("http", "https"):
        return "the scheme must be http or https"
    if not parts.hostname:
        return "no host name"
    return None


def display_url(url: str) -> str:
    """``url`` without any password (what titles and subjects show)."""
    parts = urlsplit(url)
    userinfo, at, hostport = parts.netloc.rpartition("@")
    if not at or ":" not in userinfo:
        return url
    return parts._replace(netloc=f"{userinfo.split(':', 1)[0]}:***@{hostport}").geturl()


@dataclass(frozen=True)
class Probe:
    """What one request found: a status, or an error; and the certificate's expiry if any."""

    status: int | None = None
    error: str | None = None
    untrusted: str | None = None
    cert_expires: datetime | None = None


def ssl_context(ca_file: str = "") -> ssl.SSLContext:
    """A verifying TLS context trusting the system's CAs plus ``ca_file``; CheckError if unusable."""
    context = ssl.create_default_context()
    if ca_file:
        try:
            context.load_verify_locations(cafile=ca_file)
        except (OSError, ssl.SSLError) as exc:
            raise CheckError(f"ca_file {ca_file!r} cannot be loaded: {_describe(exc)}") from exc
    return context


def _connection(parts: SplitResult, timeout: float, context: ssl.SSLContext) -> http.client.HTTPConnection:
    host = parts.hostname or ""
    if parts.scheme == "https":
        return http.client.HTTPSConnection(host, parts.port, timeout=timeout, context=context)
    return http.client.HTTPConnection(host, parts.port, timeout=timeout)


def _cert_expiry(conn: http.client.HTTPConnection) -> datetime | None:
    sock = conn.sock
    if not isinstance(sock, ssl.SSLSocket):
        return None
    cert = sock.getpeercert()
    not_after = cert.get("notAfter") if cert else None
    if not isinstance(not_after, str):
        return None
    return datetime.fromtimestamp(ssl.cert_time_to_seconds(not_after), UTC)


def probe(url: str, timeout: float, context: ssl.SSLContext | None = None) -> Probe:
    """GET ``url`` once (no redirects followed) and report status, errors and certificate expiry."""
    parts = urlsplit(url)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    headers = {"User-Agent": "watchkeeper-endpoint-check", "Connection": "close"}
    if parts.username is not None:
        token = f"{unquote(parts.username)}:{unquote(parts.password or '')}".encode()
        headers["Authorization"] = "Basic " + base64.b64encode(token).decode("ascii")
    expires = None
    conn = _connection(parts, timeout, context or ssl_context())
    try:
        conn.connect()
        expires = _cert_expiry(conn)
        conn.request("GET", path, headers=headers)
        response = conn.getresponse()
        response.read(64 * 1024)
        return Probe(status=response.status, cert_expires=expires)
    except ssl.SSLCertVerificationError as exc:
        return Probe(untrusted=exc.verify_message or str(exc.reason or exc))
    except TimeoutError:
        return Probe(error=f"no answer within {timeout:g} s", cert_expires=expires)
    except (OSError, http.client.HTTPException) as exc:
        return Probe(error=_describe(exc), cert_expires=expires)
    finally:
        conn.close()


def _describe(exc: BaseException) -> str:
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    text = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
    return f"{type(exc).__name__}: {text}"


def judge(url: str, result: Probe, now: datetime, *, max_status: int, cert_expiry_days: int,
          severity: str = Severity.CRITICAL, zone: tzinfo = UTC) -> list[Finding]:
    """The findings for one probe result (pure); times are shown in ``zone``."""
    shown = display_url(url)
    findings = []
    if result.untrusted is not None:
        findings.append(Finding(shown, severity, f"TLS certificate not trusted: {result.untrusted}",
                                f"{shown}: the certificate failed verification"))
    elif result.error is not None:
        findings.append(Finding(shown, severity, f"{shown} is down", result.error))
    elif result.status is not None and result.status > max_status:
        findings.append(Finding(shown, severity, f"{shown} is down: HTTP {result.status}",
                                f"status {result.status} is above {max_status}"))
    if result.cert_expires is not None:
        left = result.cert_expires - now
        if left.total_seconds() < cert_expiry_days * 86400:
            days = left.total_seconds() / 86400
            when = human_time(result.cert_expires, zone)
            title = (f"TLS certificate of {shown} expired" if days < 0
                     else f"TLS certificate of {shown} expires in {days:.1f} days")
            detail = f"expires {when}; {days:.1f} days left (threshold {cert_expiry_days} days)"
            findings.append(Finding(f"{shown}#cert", Severity.WARNING, title, detail))
    return findings


class EndpointCheck(CheckKind):
    """HTTP(S) endpoints: reachable with an acceptable status, certificate trusted and not expiring."""

    kind = "endpoint"
    description = "A watched HTTP(S) endpoint is down or its TLS certificate expires soon."
    schedule = "every 5m"
    cooldown = "12h"
    severity = Severity.CRITICAL
    params = {
        "urls": Param([], "http:// or https:// URLs to watch.", _urls),
        "timeout_seconds": Param(10.0, "The longest a request may take before the endpoint counts as down.",
                                 timeout_seconds),
        "cert_expiry_days": Param(14, "Warn when a TLS certificate expires within this many days.", _days),
        "max_status": Param(399, "An HTTP status above this counts as down.", _status),
        "ca_file": Param("", "Extra CA bundle (PEM) to trust besides the system's, e.g. a private CA."),
    }

    def evaluate(self, ctx: CheckContext) -> list[Finding]:
        """Probe every URL in parallel; findings for those down, untrusted or expiring."""
        urls: list[str] = list(ctx.params.get("urls") or [])
        bad = [f"urls[{i}]: {p}" for i, u in enumerate(urls) if (p := url_problem(u))]
        if bad:
            raise CheckError("cannot probe " + "; ".join(bad))
        if not urls:
            return []
        timeout = float(ctx.params.get("timeout_seconds", 10.0))
        ca_file = str(ctx.params.get("ca_file") or "")
        results = probe_all(urls, timeout, ssl_context(ca_file))
        findings = []
        for url in results:
            findings += judge(url, results[url], ctx.now, max_status=int(ctx.params.get("max_status", 399)),
                              cert_expiry_days=int(ctx.params.get("cert_expiry_days", 14)),
                              severity=self.severity, zone=ctx.zone)
        return findings


def probe_all(urls: list[str], timeout: float, context: ssl.SSLContext | None = None) -> dict[str, Probe]:
    """Probe all URLs at once; a probe still running ``timeout`` (plus a grace) after the start
    counts as down, so one evaluation stays within the runner's limit of timeout + 5 s."""
    if not urls:
        return {}
    unique = list(dict.fromkeys(urls))
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=min(_MAX_WORKERS, len(unique)),
                                                 thread_name_prefix="endpoint-probe")
    try:
        futures = {url: pool.submit(probe, url, timeout, context) for url in unique}
        concurrent.futures.wait(futures.values(), timeout=timeout + _GRACE_SECONDS)
        results = {}
        for url, future in futures.items():
            if future.done():
                results[url] = future.result()
            else:
                results[url] = Probe(error=f"no answer within {timeout:g} s (probe abandoned)")
        return results
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
