"""The running instance's control channel: how `watchkeeper stop`, `check run`, `pause` and the
other CLI commands reach the instance, on every OS.

A ``multiprocessing.connection`` listener on 127.0.0.1 with an HMAC challenge (``authkey``);
address and key are written to ``control.json`` in the data dir, readable only by the user.
One blocking accept thread: no polling. Commands are plain dicts in, dicts out.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import threading
from collections.abc import Callable
from multiprocessing.connection import Client, Connection, Listener
from pathlib import Path
from typing import Any

from engine.platform import current as platform

log = logging.getLogger(__name__)

Handler = Callable[[dict[str, Any]], dict[str, Any]]


class ControlError(Exception):
    """The instance could not be reached or refused the command."""


class ControlServer:
    """Serves commands for the running instance until ``close()``."""

    def __init__(self, control_file: Path, handlers: dict[str, Handler]):
        self._file = control_file
        self._handlers = handlers
        self._key = secrets.token_bytes(32)
        self._listener = Listener(("127.0.0.1", 0), authkey=self._key)
        self._closed = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="control", daemon=True)

    @property
    def address(self) -> tuple[str, int]:
        return self._listener.address  # type: ignore[no-any-return]

    def start(self) -> None:
        """Publish the address and key, then accept connections in a daemon thread."""
        host, port = self.address
        tmp = self._file.with_suffix(".tmp")
        tmp.write_text(json.dumps({"host": host, "port": port, "key": self._key.hex(), "pid": os.getpid()}))
        platform.make_private(str(tmp))
        os.replace(tmp, self._file)
        self._thread.start()

    def _serve(self) -> None:
        while not self._closed.is_set():
            try:
                conn = self._listener.accept()
            except OSError:
                if self._closed.is_set():
                    return
                log.debug("control: rejected a connection", exc_info=True)
                continue
            except Exception:  # authentication failures and the like
                log.warning("control: rejected a connection that failed authentication")
                continue
            threading.Thread(target=self._handle, args=(conn,), name="control-conn", daemon=True).start()

    def _handle(self, conn: Connection) -> None:
        with conn:
            try:
                request = conn.recv()
                command = request.get("command") if isinstance(request, dict) else None
                handler = self._handlers.get(command) if isinstance(command, str) else None
                if handler is None:
                    conn.send({"ok": False, "error": f"unknown command {command!r}"})
                    return
                conn.send({"ok": True, **handler(request)})
            except (EOFError, OSError):
                return
            except Exception as exc:  # a failing handler answers with its error, never kills the server
                log.exception("control command failed")
                try:
                    conn.send({"ok": False, "error": str(exc)})
                except OSError:
                    pass

    def close(self) -> None:
        """Stop accepting and remove control.json (if it is still ours)."""
        self._closed.set()
        try:
            data = json.loads(self._file.read_text())
            if data.get("pid") == os.getpid():
                self._file.unlink()
        except (OSError, ValueError):
            pass
        self._listener.close()


def send_command(control_file: Path, command: str, timeout: float = 30.0, **params: Any) -> dict[str, Any]:
    """Send one command to the running instance; raises ControlError when it cannot."""
    try:
        data = json.loads(control_file.read_text())
        address = (data["host"], int(data["port"]))
        key = bytes.fromhex(data["key"])
    except (OSError, ValueError, KeyError) as exc:
        raise ControlError(f"no control channel ({control_file}): {exc}") from exc
    try:
        with Client(address, authkey=key) as conn:
            conn.send({"command": command, **params})
            if not conn.poll(timeout):
                raise ControlError(f"the instance did not answer {command!r} within {timeout:.0f} s")
            reply: dict[str, Any] = conn.recv()
    except (OSError, EOFError) as exc:
        raise ControlError(f"cannot reach the running instance: {exc}") from exc
    if not reply.get("ok"):
        raise ControlError(str(reply.get("error", "command failed")))
    return reply
