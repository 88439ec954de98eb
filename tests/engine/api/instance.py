"""A real `watchkeeper run --headless` with the API on a free port, for the API acceptance tests."""

from __future__ import annotations

import http.client
import json
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from engine.api.tokens import read_token
from engine.paths import Paths
from tests.helpers import start_instance, stop_instance, wait_until


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Client:
    """A keep-alive HTTP client for one thread."""

    def __init__(self, port: int, token: str | None):
        self.port = port
        self.token = token
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

    def request(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        headers = {"Host": f"127.0.0.1:{self.port}"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        try:
            self.conn.request(method, path, body=data, headers=headers)
            response = self.conn.getresponse()
        except (ConnectionError, http.client.HTTPException):
            self.conn.close()
            raise
        raw = response.read()
        return response.status, json.loads(raw) if raw else None

    def close(self) -> None:
        self.conn.close()


@contextmanager
def running_instance(paths: Paths, config: str, log_name: str = "instance.log") -> Iterator[tuple[int, str]]:
    """Write ``config`` (plus [api] port) to config.toml, start the instance, yield (port, token)."""
    port = free_port()
    paths.config_file.write_text(f"[api]\nport = {port}\n\n{config}\n", encoding="utf-8")
    proc = start_instance(log=paths.log_dir / log_name)
    try:
        token = wait_until(lambda: read_token(paths), timeout=30, message="the API token file")

        def healthy() -> bool:
            if proc.poll() is not None:
                raise AssertionError(f"instance exited with {proc.returncode}")
            try:
                return Client(port, None).request("GET", "/health")[0] == 200
            except OSError:
                return False

        wait_until(healthy, timeout=60, message="GET /health")
        yield port, token
    finally:
        stop_instance(proc)
