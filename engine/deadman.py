"""The dead-man's switch: the running agent pings an outside monitor (Healthchecks, Uptime Kuma)
so that the owner hears when Watchkeeper itself is gone, or says it is DEGRADED.

``decide`` is pure: health state, reasons, style and URL in, the request to make out. The service
(``DeadmanService``, in engine.units.SERVICES) asks the engine for its health every interval in its
own thread and hands the request to a sender thread through a one-slot mailbox: a ping never
blocks the heartbeat, a newer ping replaces one still waiting (stale pings are dropped), and each
send has a bounded timeout and two retries with backoff. The reason text carries health reason
categories only (never check names, paths or outputs), and the URL's token is a secret: logs and
status show ``scheme://host/…``.
"""

from __future__ import annotations

import logging
import threading
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from engine.health import NO_CHANNEL_CAN_DELIVER, Health
from engine.timeutil import parse_duration, to_db, utcnow

log = logging.getLogger(__name__)

HEALTHCHECKS = "healthchecks"
UPTIME_KUMA = "uptime-kuma"
TIMEOUT_SECONDS = 10.0
RETRIES = 2
BACKOFF_SECONDS = (2.0, 5.0)  # before the first and the second retry
USER_AGENT = "Watchkeeper dead-man switch"

# Health reason -> category (first match wins): what may leave the machine.
_CATEGORIES: tuple[tuple[str, str], ...] = (
    (NO_CHANNEL_CAN_DELIVER, "no channel can deliver"),
    ("channel ", "channel broken"),
    ("API port", "API port busy"),
    ("API token", "API unavailable"),
    ("disk full", "disk full"),
    ("no space", "disk full"),
    ("heartbeat stale", "scheduler stuck"),
    ("job ", "job failing"),
    ("config.toml invalid", "config invalid"),
    ("database", "database trouble"),
)


@dataclass(frozen=True)
class PingRequest:
    """One HTTP request to the monitor; ``kind`` is start | ok | fail."""

    kind: str
    method: str
    url: str
    body: bytes = b""


@dataclass(frozen=True)
class PingResult:
    """How the last ping went (``detail`` never holds the URL)."""

    kind: str
    ok: bool
    detail: str
    at: datetime

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "ok": self.ok, "detail": self.detail, "at": to_db(self.at)}


def reason_categories(reasons: Sequence[str]) -> list[str]:
    """The health reasons as categories that name no private data, in order, without repeats."""
    out: list[str] = []
    for reason in reasons:
        low = reason.lower()
        category = next((c for needle, c in _CATEGORIES if low.startswith(needle.lower()) or needle.lower() in low),
                        "internal problem")
        if category not in out:
            out.append(category)
    return out


def _with_query(url: str, **params: str) -> str:
    """``url`` with ``params`` replacing those keys of its query (Uptime Kuma's push URL comes with
    ``?status=up&msg=OK&ping=``)."""
    parts = urlsplit(url)
    kept = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k not in params and k != "ping"]
    return urlunsplit(parts._replace(query=urlencode([*kept, *params.items()])))


def _child(url: str, leaf: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=parts.path.rstrip("/") + "/" + leaf))


def decide(state: Health, reasons: Sequence[str], style: str, url: str, *, starting: bool = False
           ) -> PingRequest | None:
    """The ping for this health: ``starting`` (the agent just started) gives the start ping; DEGRADED
    a failure with a one-line reason; any other started state a success. None when there is no URL
    or the engine has not started yet."""
    if not url or (state == Health.STARTING and not starting):
        return None
    degraded = state == Health.DEGRADED and not starting
    reason = ", ".join(reason_categories(reasons)) if degraded else ""
    if style == UPTIME_KUMA:
        if starting:
            return PingRequest("start", "GET", _with_query(url, status="up", msg="Watchkeeper started"))
        if degraded:
            return PingRequest("fail", "GET", _with_query(url, status="down", msg=f"Watchkeeper degraded: {reason}"))
        return PingRequest("ok", "GET", _with_query(url, status="up", msg="OK"))
    if starting:
        return PingRequest("start", "POST", _child(url, "start"), b"Watchkeeper started")
    if degraded:
        return PingRequest("fail", "POST", _child(url, "fail"), f"Watchkeeper degraded: {reason}".encode())
    return PingRequest("ok", "POST", url, b"OK")


def log_line(previous: PingResult | None, result: PingResult, where: str) -> tuple[int, str] | None:
    """What the log says about ``result``: a failure when pings start failing or fail differently,
    one line when they reach the monitor again, nothing for repeats (a monitor down all night is
    one line, not one per interval; status and doctor always show the latest)."""
    if result.ok:
        if previous is not None and not previous.ok:
            return logging.INFO, f"dead-man ping ({result.kind}) to {where} reaches the monitor again"
        return None
    if previous is None or previous.ok or previous.detail != result.detail:
        return logging.WARNING, (f"dead-man ping ({result.kind}) to {where} failed: {result.detail} "
                                 "(the same failure again is not logged)")
    return None


def redact_url(url: str) -> str:
    """``scheme://host/…``: the URL without its token (the path and query are the credential)."""
    if not url:
        return ""
    parts = urlsplit(url)
    host = parts.hostname or "?"
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}/…"


def send(request: PingRequest, timeout: float = TIMEOUT_SECONDS) -> str:
    """Make ``request`` once; returns "HTTP <status>" or raises OSError with a text free of the URL."""
    http = urllib.request.Request(request.url, data=request.body if request.method == "POST" else None,
                                  method=request.method, headers={"User-Agent": USER_AGENT})
    try:
        with urllib.request.urlopen(http, timeout=timeout) as response:  # noqa: S310 - http(s) checked in config
            response.read(1024)
            return f"HTTP {response.status}"
    except urllib.error.HTTPError as exc:
        raise OSError(f"HTTP {exc.code}") from None
    except urllib.error.URLError as exc:
        reason = exc.reason
        raise OSError(getattr(reason, "strerror", None) or str(reason)) from None
    except TimeoutError:
        raise OSError(f"no answer within {timeout:g} s") from None
    except OSError as exc:
        raise OSError(exc.strerror or type(exc).__name__) from None


class DeadmanService:
    """Pings the monitor while the engine runs: the start ping, then one per interval."""

    def __init__(self, url: str, style: str, interval: float, health: Callable[[], tuple[Health, list[str]]], *,
                 timeout: float = TIMEOUT_SECONDS, backoff: Sequence[float] = BACKOFF_SECONDS,
                 now: Callable[[], datetime] = utcnow):
        self._url = url
        self.style = style
        self.interval = interval
        self._health = health
        self.timeout = timeout
        self.backoff = tuple(backoff)
        self.now = now
        self.last: PingResult | None = None
        self._lock = threading.Lock()
        self._pending: PingRequest | None = None
        self._wake = threading.Event()
        self._closing = threading.Event()
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        """Queue the start ping and start the ticker and the sender; never blocks, never raises."""
        self.submit(decide(Health.OK, [], self.style, self._url, starting=True))
        for name, target in (("deadman-sender", self._send_loop), ("deadman-ticker", self._tick_loop)):
            thread = threading.Thread(target=target, name=name, daemon=True)
            thread.start()
            self._threads.append(thread)
        log.info("dead-man switch on: %s pings %s every %g s", self.style, redact_url(self._url), self.interval)

    def close(self) -> None:
        self._closing.set()
        self._wake.set()
        for thread in self._threads:
            thread.join(timeout=1.0)  # a sender inside a request is a daemon: its timeout ends it

    def submit(self, request: PingRequest | None) -> None:
        """Hand ``request`` to the sender at once (a ping still waiting is dropped as stale)."""
        if request is None:
            return
        with self._lock:
            self._pending = request
        self._wake.set()

    def tick(self) -> None:
        """Queue the ping for the engine's current health (the ticker calls it every interval)."""
        try:
            state, reasons = self._health()
        except Exception as exc:  # the engine cannot say: that is a failure worth a ping
            state, reasons = Health.DEGRADED, [f"internal problem: {type(exc).__name__}"]
        self.submit(decide(state, reasons, self.style, self._url))

    def deadman_status(self) -> dict[str, Any]:
        """What `status` and doctor show: where it pings (redacted) and how the last ping went."""
        last = self.last
        return {"enabled": True, "style": self.style, "url": redact_url(self._url), "interval_seconds": self.interval,
                "last": last.to_dict() if last else None}

    def _tick_loop(self) -> None:
        while not self._closing.wait(self.interval):
            self.tick()

    def _take(self) -> PingRequest | None:
        with self._lock:
            request, self._pending = self._pending, None
            self._wake.clear()
            return request

    def _newer_waiting(self) -> bool:
        with self._lock:
            return self._pending is not None

    def _send_loop(self) -> None:
        while not self._closing.is_set():
            self._wake.wait()
            request = self._take()
            if request is not None and not self._closing.is_set():
                self._deliver(request)

    def _deliver(self, request: PingRequest) -> None:
        detail = "not sent"
        for attempt in range(RETRIES + 1):
            if attempt:
                pause = self.backoff[min(attempt - 1, len(self.backoff) - 1)] if self.backoff else 0.0
                if self._closing.wait(pause) or self._newer_waiting():
                    # Stopping, or a newer ping replaces this stale one: its failure is still the latest
                    # fact (a monitor that hangs longer than the interval would otherwise never show one).
                    self._record(PingResult(request.kind, False, detail, self.now()))
                    return
            try:
                detail = send(request, self.timeout)
            except OSError as exc:
                detail = str(exc).replace(self._url, redact_url(self._url))
                continue
            self._record(PingResult(request.kind, True, detail, self.now()))
            return
        self._record(PingResult(request.kind, False, detail, self.now()))

    def _record(self, result: PingResult) -> None:
        line = log_line(self.last, result, redact_url(self._url))
        self.last = result
        if line is not None:
            log.log(*line)


def deadman_service(engine: Any) -> DeadmanService | None:
    """The dead-man service of a started engine (engine.units.SERVICES), or None when ``[deadman] url`` is empty."""
    settings = engine.config.deadman
    if not settings.url:
        return None

    def health() -> tuple[Health, list[str]]:
        report = engine.snapshot().health
        return report.state, list(report.reasons)

    return DeadmanService(settings.url, settings.style, parse_duration(settings.interval).total_seconds(), health)
