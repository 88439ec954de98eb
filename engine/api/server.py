"""ApiServer: the local HTTP API of a running instance, served by uvicorn in a daemon thread.

- ``start()`` binds 127.0.0.1:port at once (a busy port becomes ``problem``, shown in health as
  DEGRADED; the engine keeps running) and returns; it never raises. With ``[api] bind`` set to a
  LAN address it listens there too (``0.0.0.0`` / ``::`` alone: every interface, loopback included),
  and engine.api.access judges the peers that are not loopback.
- FastAPI, pydantic and uvicorn are imported only when the first connection arrives: until then
  the thread blocks in ``select()`` on the listening socket, so an instance nobody queries pays
  neither their start-up time nor their ~25 MB of memory.
- uvicorn's main loop normally wakes every 0.1 s to look at ``should_exit``; here it waits on an
  asyncio Event set through ``call_soon_threadsafe`` by ``close()``: no idle wake-ups. Then it sets
  the app's ``ui_closing`` event, which ends the dashboard's open event streams at once (uvicorn
  would otherwise wait for them until timeout_graceful_shutdown).
- No access log (and no header is ever logged); a filter on uvicorn's loggers masks the tokens
  in case one ever shows up in a message.
- Bounded for clients without a token: at most MAX_CONNECTIONS open connections, and a request
  must arrive whole within REQUEST_TIMEOUT (uvicorn's timeout_keep_alive only runs after a
  response and any byte cancels it, so a slow-header client would be held forever). When the cap
  is reached, the connection that has waited longest for a request is closed to make room (so idle
  or slow clients cannot lock the user out); if every connection is busy with a request, the new
  one is closed at once. File handles stay bounded, so the database and the heartbeat never run out.
"""

from __future__ import annotations

import logging
import select
import socket
import sys
import threading
from typing import TYPE_CHECKING, Any

from engine.api.access import LanAccess
from engine.api.tokens import TokenStore
from engine.config import Config, is_loopback_bind
from engine.login_tokens import OneTimeTokens
from engine.paths import Paths

if TYPE_CHECKING:
    import asyncio

    from engine.engine import Engine

log = logging.getLogger(__name__)

HOST = "127.0.0.1"
ALL_INTERFACES = ("0.0.0.0", "::")
MAX_CONNECTIONS = 64
REQUEST_TIMEOUT = 5.0  # seconds from connection (or the previous response) to a complete request
MAX_HEADER_BYTES = 16 * 1024  # h11's limit on an incomplete request head (its default is 16 KiB too)


class _TokenFilter(logging.Filter):
    """Masks API tokens in log records (defence in depth: nothing logs headers)."""

    def __init__(self, tokens: TokenStore) -> None:
        super().__init__()
        self.tokens = tokens

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            text = record.getMessage()
        except Exception:
            return True
        secrets = self.tokens.secrets()
        if any(s in text for s in secrets):
            for s in secrets:
                text = text.replace(s, "<token>")
            record.msg, record.args = text, None
        return True


def bind(port: int, host: str = HOST) -> socket.socket:
    """A listening socket on host:port, 127.0.0.1 by default (OSError when the port is taken)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # proto=IPPROTO_TCP matters: asyncio sets TCP_NODELAY on accepted sockets only when the proto
    # says TCP; with proto 0, Nagle plus delayed ACK added 40 ms to every keep-alive response.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        if family == socket.AF_INET6 and host == "::":
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)  # "::" means IPv4 too
        if sys.platform == "win32":
            # Without this, Windows lets a second socket bind the same port.
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_EXCLUSIVEADDRUSE, 1)  # type: ignore[attr-defined]
        else:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # TIME_WAIT only, not a live listener
        sock.bind((host, port))
        sock.listen(128)
    except OSError:
        sock.close()
        raise
    sock.setblocking(False)
    return sock


def listen_hosts(bind_host: str) -> list[str]:
    """The addresses to listen on for ``[api] bind``: loopback always (the CLI, the tray and the
    dashboard use it), and the LAN address beside it; "0.0.0.0" and "::" include loopback already."""
    if bind_host in ALL_INTERFACES:
        return [bind_host]
    return [HOST] if bind_host == HOST else [HOST, bind_host]


def host_headers(bind_host: str, port: int) -> list[str]:
    """Host headers a loopback peer may send beyond 127.0.0.1:PORT and localhost:PORT."""
    if bind_host == "::":
        return [f"[::1]:{port}"]
    if bind_host == HOST or bind_host in ALL_INTERFACES:
        return []
    return [http_url(bind_host, port).removeprefix("http://")]


def http_url(host: str, port: int) -> str:
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def guarded_protocol(base: type[Any]) -> type[Any]:
    """An H11Protocol subclass with the connection cap and the request deadline (one set per server)."""
    import h11

    waiting: dict[Any, None] = {}  # connections waiting for a request, oldest first (event-loop thread only)

    class GuardedH11Protocol(base):  # type: ignore[misc, valid-type]
        _deadline: asyncio.TimerHandle | None = None

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            if len(self.connections) >= MAX_CONNECTIONS:
                if not waiting:  # every connection is busy with a request: refuse this one
                    self.transport = transport
                    transport.abort()
                    return
                oldest = next(iter(waiting))
                oldest._expire()
            super().connection_made(transport)
            self._arm()

        def _arm(self) -> None:
            self._disarm()
            self._deadline = self.loop.call_later(REQUEST_TIMEOUT, self._expire)
            waiting[self] = None

        def _disarm(self) -> None:
            waiting.pop(self, None)
            if self._deadline is not None:
                self._deadline.cancel()
                self._deadline = None

        def _expire(self) -> None:
            self._disarm()
            self.connections.discard(self)  # counted out now; the transport closes on its own time
            if not self.transport.is_closing():
                self.transport.abort()

        def handle_events(self) -> None:
            super().handle_events()
            if self.conn.their_state is not h11.IDLE and self.conn.their_state is not h11.SEND_BODY:
                self._disarm()  # the whole request is in (or the connection is done)

        def on_response_complete(self) -> None:
            if not self.transport.is_closing():
                self._arm()  # the next request must arrive in time too (a pipelined one disarms at once)
            super().on_response_complete()

        def connection_lost(self, exc: Exception | None) -> None:
            self._disarm()
            super().connection_lost(exc)

    return GuardedH11Protocol


class ApiServer:
    """Serves engine.api.http for ``engine`` until ``close()``."""

    def __init__(self, engine: Engine, config: Config, paths: Paths, *, lazy: bool = True):
        self.engine = engine
        self.config = config
        self.paths = paths
        self.lazy = lazy
        self.port = int(config.api.port)
        self.problem: str | None = None
        self.url: str | None = None
        self.tokens: TokenStore | None = None
        self.logins = OneTimeTokens()  # the dashboard's one-time login tokens (engine.actions.dashboard)
        self.ready = threading.Event()  # set once uvicorn serves (or failed to)
        self.bind_host = config.api.bind
        self.lan: LanAccess | None = None if is_loopback_bind(self.bind_host) else LanAccess.parse(config.api.allow)
        self.listen: str | None = None  # where it listens, for status ("http://ADDR:PORT (LAN: ...)")
        self._sock: socket.socket | None = None
        self._socks: list[socket.socket] = []
        self._wake_r: socket.socket | None = None
        self._wake_w: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self._server: Any = None
        self._loop: Any = None
        self._stop: Any = None
        self._lock = threading.Lock()
        self._closing = False
        self._filters: list[tuple[logging.Logger, logging.Filter]] = []

    def __repr__(self) -> str:
        return f"ApiServer({self.url or self.problem})"

    # -- lifecycle ------------------------------------------------------------------------------

    def start(self) -> None:
        """Bind and serve in a daemon thread; a busy port or any failure becomes ``problem``."""
        try:
            self.tokens = TokenStore(self.paths)
        except OSError as exc:
            self._fail(f"API token file cannot be written: {exc}")
            return
        hosts = listen_hosts(self.bind_host)
        for host in hosts:
            try:
                self._socks.append(bind(self.port, host))
            except OSError as exc:
                for sock in self._socks:
                    sock.close()
                self._socks.clear()
                self._fail(f"API port {self.port} on {host} is busy or not allowed ({exc.strerror or exc}); "
                           "change [api] port" + (" or [api] bind" if host != HOST else "") + " in config.toml")
                return
        self._sock = self._socks[0]
        self.url = f"http://{HOST}:{self.port}"
        self.listen = self.url if self.lan is None else (
            f"{http_url(self.bind_host, self.port)} (LAN: {plural(len(self.lan.networks), 'allowed network')})")
        self._wake_r, self._wake_w = socket.socketpair()
        self._thread = threading.Thread(target=self._run, name="api", daemon=True)
        self._thread.start()
        log.info("local API listening on %s", self.listen)

    def _fail(self, problem: str) -> None:
        self.problem = problem
        self.url = None
        self.ready.set()
        log.warning("%s", problem)

    def _run(self) -> None:
        try:
            if self.lazy and not self._wait_for_first_connection():
                return
            self._serve()
        except BaseException as exc:  # never let the thread die silently
            log.exception("local API stopped")
            self._fail(f"local API stopped: {type(exc).__name__}: {exc}")
            self.engine.publish()
        finally:
            self.ready.set()

    def _wait_for_first_connection(self) -> bool:
        """Block (no polling) until a client connects or close() is called; True to serve."""
        assert self._sock is not None and self._wake_r is not None
        readable, _, _ = select.select([*self._socks, self._wake_r], [], [])
        return self._wake_r not in readable and not self._closing

    def _serve(self) -> None:
        import asyncio

        import uvicorn
        from uvicorn.protocols.http.h11_impl import H11Protocol  # explicit: PyInstaller sees it

        from engine.api.http import create_app

        assert self.tokens is not None and self._sock is not None
        app = create_app(self.engine, self.tokens, port=self.port, logins=self.logins, lan=self.lan,
                         extra_hosts=host_headers(self.bind_host, self.port))
        config = uvicorn.Config(app, http=guarded_protocol(H11Protocol), loop="asyncio", log_config=None,
                                access_log=False, lifespan="off", ws="none", server_header=False,
                                date_header=False, timeout_graceful_shutdown=3, proxy_headers=False,
                                forwarded_allow_ips="",
                                # requests in flight, counting those whose client already left
                                limit_concurrency=2 * MAX_CONNECTIONS,
                                timeout_keep_alive=int(REQUEST_TIMEOUT),
                                h11_max_incomplete_event_size=MAX_HEADER_BYTES)
        token_filter = _TokenFilter(self.tokens)
        for name in ("uvicorn", "uvicorn.error", "uvicorn.access", "fastapi"):
            logger = logging.getLogger(name)
            logger.addFilter(token_filter)
            self._filters.append((logger, token_filter))

        owner = self

        class Server(uvicorn.Server):
            async def main_loop(self) -> None:
                await self.on_tick(0)  # default headers (no date: no per-second refresh needed)
                stop = asyncio.Event()
                with owner._lock:
                    owner._loop, owner._stop = asyncio.get_running_loop(), stop
                    closing = owner._closing
                owner.ready.set()
                if not closing:
                    await stop.wait()
                # The dashboard's event streams end now, not after timeout_graceful_shutdown.
                app.state.ui_closing.set()

        self._server = Server(config)
        asyncio.run(self._server.serve(sockets=self._socks))

    def close(self, timeout: float = 5.0) -> None:
        """Stop serving (bounded: open requests get a few seconds), release the port."""
        with self._lock:
            self._closing = True
            server, loop, stop = self._server, self._loop, self._stop
        if server is not None:
            server.should_exit = True
        if loop is not None and stop is not None:
            try:
                loop.call_soon_threadsafe(stop.set)
            except RuntimeError:
                pass  # loop already closed
        if self._wake_w is not None:
            try:
                self._wake_w.send(b"x")
            except OSError:
                pass
        if self._thread is not None:
            self._thread.join(timeout)
            if self._thread.is_alive() and server is not None:
                server.force_exit = True
                self._thread.join(1.0)
        for sock in (*self._socks, self._wake_r, self._wake_w):
            if sock is not None:
                try:
                    sock.close()
                except OSError:
                    pass
        for logger, token_filter in self._filters:
            logger.removeFilter(token_filter)
        self._filters.clear()


def api_service(engine: Engine) -> ApiServer | None:
    """The API server of a started engine (a service in engine.units.SERVICES); None when
    ``[api] enabled = false``."""
    return ApiServer(engine, engine.config, engine.paths) if engine.config.api.enabled else None
