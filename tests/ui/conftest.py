"""Browser tests of the dashboard and /docs: Playwright (pytest-playwright) driving Debian's chromium-headless-shell.

- The browser: /usr/lib/chromium/chromium-headless-shell (``WK_CHROMIUM=PATH`` overrides); never
  ``playwright install``. Without it (or without Playwright) the tests skip with the reason, unless
  ``WATCHKEEPER_REQUIRE_BROWSER=1`` (CI), which makes that a failure.
- ``instance``: a real ``watchkeeper run --headless`` per test module with [api] on a free port and [toast] off;
  a module adds configuration by overriding the ``dashboard_config`` fixture (TOML text).
- ``dashboard``: a page logged in through ``watchkeeper dashboard --no-browser`` (its last line is the login URL).
- ``guard``: fails the test on any console error, page error or CSP violation, and on any request to a host
  other than the instance's 127.0.0.1:PORT (those requests are aborted, never sent).
- ``axe_violations(page)``: axe-core's serious and critical WCAG 2 A/AA violations; axe is injected, so the page
  must come from a ``bypass_csp`` context (``dashboard.new_page(..., bypass_csp=True)``).
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.conftest import free_port
from tests.helpers import ROOT, cli, start_instance, stop_instance, wait_until

CHROMIUM = os.environ.get("WK_CHROMIUM", "/usr/lib/chromium/chromium-headless-shell")
REQUIRE = os.environ.get("WATCHKEEPER_REQUIRE_BROWSER") == "1"
AXE = ROOT / "tests" / "ui" / "vendor" / "axe.min.js"
UI_DIR = Path(__file__).resolve().parent
BLOCKING_IMPACTS = ("serious", "critical")

# Chromium reports CSP violations on the console; this also reports those it would only dispatch as events.
_REPORT_CSP = """document.addEventListener('securitypolicyviolation', e =>
  console.error(`CSP violation: ${e.violatedDirective} blocked ${e.blockedURI || 'inline'}`));"""


def browser_missing() -> str | None:
    """Why the browser tests cannot run here (None when they can)."""
    if importlib.util.find_spec("playwright") is None or importlib.util.find_spec("pytest_playwright") is None:
        return "Playwright is not installed (pip install -e '.[test]')"
    if not os.access(CHROMIUM, os.X_OK):
        return f"no browser at {CHROMIUM} (apt-get install chromium-headless-shell, or set WK_CHROMIUM)"
    return None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    reason = browser_missing()
    if reason is None or REQUIRE:
        return  # with REQUIRE, _browser_required below fails each test instead
    for item in items:
        if UI_DIR in item.path.parents:
            item.add_marker(pytest.mark.skip(reason=reason))


@pytest.fixture(scope="session", autouse=True)
def _browser_required() -> None:
    reason = browser_missing()
    if reason:
        pytest.fail(f"WATCHKEEPER_REQUIRE_BROWSER=1 but {reason}")


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    """Debian's browser instead of Playwright's download (Playwright adds --no-sandbox and --headless)."""
    return {**browser_type_launch_args, "executable_path": CHROMIUM}


# -- a running instance ---------------------------------------------------------------------------------


@dataclass
class Instance:
    """A real `watchkeeper run --headless` with the API on ``port``."""

    home: Path
    port: int
    env: dict[str, str]
    process: subprocess.Popen[Any]
    log: Path

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def url(self, path: str) -> str:
        return self.origin + path

    def cli(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        """`watchkeeper ARGS` against this instance (same WATCHKEEPER_HOME)."""
        return cli(*args, env=self.env, timeout=timeout)

    def log_text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""


@pytest.fixture(scope="module")
def dashboard_config() -> str:
    """Extra config.toml text for the module's instance (override in a test module)."""
    return ""


@pytest.fixture(scope="module")
def instance(tmp_path_factory: pytest.TempPathFactory, dashboard_config: str) -> Iterator[Instance]:
    home = tmp_path_factory.mktemp("wk-ui") / "wk"
    (home / "config").mkdir(parents=True)
    port = free_port()
    config = home / "config" / "config.toml"
    config.write_text(f"[api]\nenabled = true\nport = {port}\n\n[toast]\nenabled = false\n\n{dashboard_config}\n",
                      encoding="utf-8")
    config.chmod(0o600)
    env = {k: v for k, v in os.environ.items() if not k.startswith("WATCHKEEPER_TELEGRAM")}
    env["WATCHKEEPER_HOME"] = str(home)
    log = home.parent / "instance.log"
    process = start_instance(env=env, log=log)
    running = Instance(home, port, env, process, log)
    try:
        wait_until(lambda: _healthy(running), timeout=60, message=f"GET /health on port {port}")
        yield running
    finally:
        stop_instance(process)


def _healthy(instance: Instance) -> bool:
    import http.client

    if instance.process.poll() is not None:
        raise AssertionError(f"the instance exited with {instance.process.returncode}:\n{instance.log_text()[-3000:]}")
    conn = http.client.HTTPConnection("127.0.0.1", instance.port, timeout=5)
    try:
        conn.request("GET", "/health")
        return conn.getresponse().status == 200
    except OSError:
        return False
    finally:
        conn.close()


# -- guards: console errors, CSP violations, foreign requests ---------------------------------------------


@dataclass
class Guard:
    """What went wrong in a browser context: console errors, page errors, requests to other hosts."""

    origin: str
    errors: list[str] = field(default_factory=list)
    foreign: list[str] = field(default_factory=list)

    def watch(self, context: Any) -> None:
        """Watch every page of ``context`` (call before opening pages)."""
        allowed = urlsplit(self.origin).netloc

        def route(route: Any) -> None:
            url = route.request.url
            parts = urlsplit(url)
            if parts.scheme in ("http", "https", "ws", "wss") and parts.netloc != allowed:
                self.foreign.append(url)
                route.abort()
            else:
                route.continue_()

        context.add_init_script(_REPORT_CSP)
        context.route("**/*", route)
        context.on("page", self._watch_page)
        for page in context.pages:
            self._watch_page(page)

    def _watch_page(self, page: Any) -> None:
        page.on("console", lambda msg: self.errors.append(f"console: {msg.text}") if msg.type == "error" else None)
        page.on("pageerror", lambda exc: self.errors.append(f"page error: {exc}"))

    def problems(self) -> list[str]:
        return [*self.errors, *(f"request to another host: {url}" for url in self.foreign)]

    def assert_clean(self) -> None:
        problems = self.problems()
        assert not problems, "the browser reported:\n" + "\n".join(problems)


@pytest.fixture
def guard(context: Any, instance: Instance) -> Iterator[Guard]:
    """A Guard on the test's ``context``/``page``; the test fails if anything went wrong by its end."""
    watcher = Guard(instance.origin)
    watcher.watch(context)
    yield watcher
    watcher.assert_clean()


# -- the dashboard, logged in -----------------------------------------------------------------------------


@dataclass
class Dashboard:
    """The instance's dashboard as a browser sees it: pages logged in through `watchkeeper dashboard`."""

    instance: Instance
    browser: Any
    page: Any = None
    guards: list[Guard] = field(default_factory=list)
    contexts: list[Any] = field(default_factory=list)

    def login_url(self) -> str:
        """A fresh one-time login URL: the last line `watchkeeper dashboard --no-browser` prints."""
        result = self.instance.cli("dashboard", "--no-browser")
        assert result.returncode == 0, f"watchkeeper dashboard exited {result.returncode}:\n{result.stderr}"
        url = result.stdout.strip().splitlines()[-1]
        assert url.startswith(f"{self.instance.origin}/ui/login#t="), url
        return url

    def login(self, page: Any) -> Any:
        page.goto(self.login_url())
        page.wait_for_url(f"{self.instance.origin}/ui/")
        return page

    def new_page(self, *, color_scheme: str = "light", bypass_csp: bool = False) -> Any:
        """A logged-in page in a new, guarded context (``bypass_csp`` for axe)."""
        context = self.browser.new_context(color_scheme=color_scheme, bypass_csp=bypass_csp)
        self.contexts.append(context)
        watcher = Guard(self.instance.origin)
        watcher.watch(context)
        self.guards.append(watcher)
        return self.login(context.new_page())


@pytest.fixture
def dashboard(instance: Instance, browser: Any, page: Any, guard: Guard) -> Iterator[Dashboard]:
    """``dashboard.page`` is the test's (guarded) page, logged in; ``new_page()`` opens more."""
    board = Dashboard(instance, browser)
    board.page = board.login(page)
    board.guards.append(guard)
    yield board
    for context in board.contexts:
        context.close()
    for watcher in board.guards[1:]:  # the first is `guard`, checked by its own fixture
        watcher.assert_clean()


# -- accessibility ------------------------------------------------------------------------------------------


def axe_violations(page: Any, impacts: tuple[str, ...] = BLOCKING_IMPACTS) -> list[dict[str, Any]]:
    """axe-core's WCAG 2 A/AA violations of ``impacts`` on the page as it is now (needs a bypass_csp context)."""
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("""() => axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa']}})""")
    return [{"id": v["id"], "impact": v["impact"], "help": v["help"],
             "nodes": [n["target"] for n in v["nodes"]][:5]}
            for v in result["violations"] if v["impact"] in impacts]
