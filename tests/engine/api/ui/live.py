"""A real instance with the dashboard, logged in the way a person is (`watchkeeper dashboard
--no-browser`, then the token posted like login.js does), and a reader of its event stream."""

from __future__ import annotations

import http.client
import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from engine.paths import Paths
from tests.engine.api.instance import running_instance
from tests.helpers import cli

CONFIG = """[toast]
enabled = false

[archive]
enabled = false

[checks.endpoint]
enabled = false

[checks.listening_ports]
enabled = false

[checks.disk_space]
enabled = true
volumes = ["/"]
schedule = "every 24h"
min_free_gb = 1000000
"""
URL = re.compile(r"^http://127\.0\.0\.1:(\d+)/ui/login#t=([A-Za-z0-9_-]{40,})$")


@dataclass
class Dashboard:
    port: int
    cookie: str  # the Cookie header value


def login_url() -> tuple[int, str]:
    """(port, token) from the last line `watchkeeper dashboard --no-browser` prints."""
    result = cli("dashboard", "--no-browser", check=True)
    match = URL.match(result.stdout.splitlines()[-1])
    assert match, result.stdout
    return int(match.group(1)), match.group(2)


def post_token(port: int, token: str) -> http.client.HTTPResponse:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("POST", "/ui/session", body=json.dumps({"token": token}),
                 headers={"Host": f"127.0.0.1:{port}", "Origin": f"http://127.0.0.1:{port}", "X-WK-UI": "1",
                          "Content-Type": "application/json"})
    answer = conn.getresponse()
    answer.read()
    conn.close()
    return answer


@contextmanager
def dashboard(paths: Paths, config: str = CONFIG) -> Iterator[Dashboard]:
    with running_instance(paths, config):
        port, token = login_url()
        answer = post_token(port, token)
        assert answer.status == 204
        cookie = answer.getheader("set-cookie").split(";", 1)[0]
        yield Dashboard(port, cookie)


class EventStream:
    """GET /ui/events, read event by event (blocking reads with a socket timeout)."""

    def __init__(self, board: Dashboard, timeout: float = 30):
        self.conn = http.client.HTTPConnection("127.0.0.1", board.port, timeout=timeout)
        self.conn.request("GET", "/ui/events", headers={"Host": f"127.0.0.1:{board.port}", "Cookie": board.cookie,
                                                         "Accept": "text/event-stream"})
        self.response = self.conn.getresponse()
        assert self.response.status == 200, self.response.status

    def next_event(self) -> tuple[str, str] | None:
        """(event name, data) of the next event (keep-alive comments skipped); None at the end."""
        name, data = "message", []
        while True:
            line = self.response.readline()
            if not line:
                return None
            text = line.decode().rstrip("\r\n")
            if not text:
                if data:
                    return name, "\n".join(data)
                continue
            if text.startswith(":"):
                continue
            field, _, value = text.partition(":")
            value = value[1:] if value.startswith(" ") else value
            if field == "event":
                name = value
            elif field == "data":
                data.append(value)

    def close(self) -> None:
        self.conn.close()
