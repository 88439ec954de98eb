"""Build the one-file binary from pyinstaller.spec and smoke-test the BINARY itself.

Slow (a PyInstaller build takes about a minute). Skipped when PyInstaller is not installed,
unless WATCHKEEPER_REQUIRE_BINARY=1 (CI), which turns the skip into a failure.
WATCHKEEPER_BINARY=/path/to/watchkeeper reuses an existing build instead of building.
"""

from __future__ import annotations

import contextlib
import hashlib
import http.client
import importlib.util
import json
import os
import select
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from engine import __version__
from tests.helpers import ROOT, wait_until

pytestmark = pytest.mark.slow

TOKEN, CHAT = "123456:TEST-token", "4242"


def _require() -> bool:
    return os.environ.get("WATCHKEEPER_REQUIRE_BINARY") == "1"


def build_binary(dest: Path) -> Path:
    """`pyinstaller --noconfirm --clean pyinstaller.spec` into ``dest``; returns the binary."""
    cmd = [sys.executable, "-m", "PyInstaller", "--noconfirm", "--clean", "--log-level", "WARN",
           "--distpath", str(dest / "dist"), "--workpath", str(dest / "build"), str(ROOT / "pyinstaller.spec")]
    result = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=900)
    if result.returncode != 0:
        raise AssertionError(f"PyInstaller failed ({result.returncode}):\n"
                             f"{result.stdout[-4000:]}\n{result.stderr[-8000:]}")
    binary = dest / "dist" / ("watchkeeper.exe" if sys.platform == "win32" else "watchkeeper")
    assert binary.is_file(), f"no binary at {binary}"
    return binary


@pytest.fixture(scope="module")
def binary(tmp_path_factory) -> Path:
    given = os.environ.get("WATCHKEEPER_BINARY")
    if given:
        return Path(given)
    if importlib.util.find_spec("PyInstaller") is None:
        reason = "PyInstaller is not installed (pip install -e '.[build]')"
        if _require():
            pytest.fail(f"WATCHKEEPER_REQUIRE_BINARY=1 but {reason}")
        pytest.skip(reason)
    return build_binary(tmp_path_factory.mktemp("pyinstaller"))


@pytest.fixture
def env(tmp_path) -> dict[str, str]:
    """The binary's environment: a private WATCHKEEPER_HOME and TMPDIR (its _MEI folder), no display."""
    home, tmp = tmp_path / "wk", tmp_path / "tmp"
    tmp.mkdir()
    out = {k: v for k, v in os.environ.items()
           if k not in ("DISPLAY", "WAYLAND_DISPLAY", "PYSTRAY_BACKEND") and not k.startswith("WATCHKEEPER_TELEGRAM")}
    out.update(WATCHKEEPER_HOME=str(home), TMPDIR=str(tmp))
    # A free port for the local HTTP API, so a Watchkeeper already running here does not collide.
    (home / "config").mkdir(parents=True)
    (home / "config" / "config.toml").write_text(f"[api]\nport = {_free_port()}\n")
    return out


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def run_bin(binary: Path, *args: str, env: dict[str, str], timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(binary), *args], capture_output=True, text=True, env=env, timeout=timeout,
                          cwd=env["WATCHKEEPER_HOME"].rsplit("/", 1)[0])


def heartbeat(db: Path) -> tuple | None:
    """The first daemon_state row (pid, last_beat_at), once the instance has written one."""
    if not db.exists():
        return None
    try:
        with contextlib.closing(sqlite3.connect(db, timeout=1)) as conn:
            return conn.execute("SELECT pid, last_beat_at FROM daemon_state ORDER BY id LIMIT 1").fetchone()
    except sqlite3.OperationalError:
        return None


@contextlib.contextmanager
def instance(binary: Path, env: dict[str, str], *args: str, log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """`watchkeeper run ARGS` from the binary; stopped with `watchkeeper stop` (killed if it hangs)."""
    with open(log, "ab") as out:
        proc = subprocess.Popen([str(binary), "run", *args], env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        yield proc
    finally:
        if proc.poll() is None:
            run_bin(binary, "stop", env=env, timeout=60)
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                _kill_tree(proc)


def _kill_tree(proc: subprocess.Popen[bytes]) -> None:
    """SIGKILL the one-file bootloader and its Python child (a killed parent does not take the
    child with it)."""
    import psutil

    try:
        children = psutil.Process(proc.pid).children(recursive=True)
    except psutil.NoSuchProcess:
        children = []
    for child in children:
        with contextlib.suppress(psutil.NoSuchProcess):
            child.kill()
    proc.kill()
    proc.wait(10)


def _db(env: dict[str, str]) -> Path:
    return Path(env["WATCHKEEPER_HOME"]) / "data" / "watchkeeper.db"


def _extraction_dirs(env: dict[str, str]) -> list[Path]:
    return sorted(Path(env["TMPDIR"]).glob("_MEI*"))


def test_version(binary, env):
    result = run_bin(binary, "--version", env=env)
    assert (result.returncode, result.stdout) == (0, f"watchkeeper {__version__}\n")
    assert _extraction_dirs(env) == []  # a clean exit removes its _MEI folder


def test_cli_is_the_source_cli(binary, env):
    frozen = run_bin(binary, "--help", env=env)
    source = subprocess.run([sys.executable, "-m", "engine", "--help"], capture_output=True, text=True, env=env,
                            cwd=ROOT, timeout=60)
    assert frozen.returncode == 0 and frozen.stdout == source.stdout
    assert "startup" in frozen.stdout


def test_run_headless_writes_a_heartbeat_and_stop_exits_cleanly(binary, env, tmp_path):
    log = tmp_path / "run.log"
    with instance(binary, env, "--headless", log=log) as proc:
        pid, beat = wait_until(lambda: heartbeat(_db(env)), timeout=60, message="a heartbeat row")
        assert beat
        assert len(_extraction_dirs(env)) == 1
        status = run_bin(binary, "status", "--json", env=env)
        assert status.returncode == 0, status.stderr
        assert json.loads(status.stdout)["running"] is True
        stop = run_bin(binary, "stop", env=env, timeout=60)
        assert stop.returncode == 0, stop.stderr
        assert stop.stdout.strip() == f"stopped (PID {pid})"
        assert proc.wait(30) == 0
    assert _extraction_dirs(env) == []
    with contextlib.closing(sqlite3.connect(_db(env))) as conn:
        assert conn.execute("SELECT clean_shutdown FROM daemon_state").fetchone() == (1,)
    assert "Traceback" not in log.read_text()


def test_binary_serves_docs_and_the_vendored_files_and_stays_under_40_mb(binary, env, tmp_path):
    config = Path(env["WATCHKEEPER_HOME"]) / "config" / "config.toml"
    port = int(config.read_text().split("port = ")[1].split()[0])
    config.write_text(config.read_text() + "\n[toast]\nenabled = false\n")

    def get(path: str) -> tuple[int, bytes]:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        try:
            conn.request("GET", path)
            response = conn.getresponse()
            return response.status, response.read()
        finally:
            conn.close()

    def up() -> bool:
        try:
            return get("/health")[0] == 200
        except OSError:
            return False

    manifest_path = ROOT / "engine" / "api" / "ui" / "static" / "vendor" / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    with instance(binary, env, "--headless", log=tmp_path / "run.log"):
        wait_until(up, timeout=60, message="GET /health from the binary")
        status, page = get("/docs")
        assert status == 200 and b"/ui/static/vendor/swagger-ui-bundle.js" in page
        for name in ("swagger-ui-bundle.js", "swagger-ui.css", "htmx.min.js", "sse.js", "uPlot.iife.min.js"):
            status, body = get(f"/ui/static/vendor/{name}")
            assert status == 200, name
            assert hashlib.sha256(body).hexdigest() == manifest[name]["sha256"], name
    assert binary.stat().st_size <= 40 * 2**20, f"{binary.stat().st_size:,} bytes"  # as bench/binary.py


def test_leftover_extraction_folders_are_removed_at_start(binary, env, tmp_path):
    runner = (ROOT / "engine" / "process" / "runner.py").read_text()
    if "cleanup_in_background" not in runner and "cleanup_stale_extractions" not in runner:
        pytest.skip("engine/process/runner.py does not call engine.process.frozen.cleanup_in_background() yet")
    tmp = Path(env["TMPDIR"])
    stale, foreign = tmp / "_MEIstale01", tmp / "_MEIother1"
    for folder in (stale, foreign):
        folder.mkdir()
        (folder / "base_library.zip").write_bytes(b"x")
    (stale / "watchkeeper.bundle").write_text("marker")
    old = time.time() - 3600
    for folder in (stale, foreign):
        os.utime(folder, (old, old))
    with instance(binary, env, "--headless", log=tmp_path / "run.log"):
        wait_until(lambda: heartbeat(_db(env)), timeout=60, message="a heartbeat row")
        # The cleanup renames the leftover to _MEI*-stale-PID before deleting it: wait for both to go.
        wait_until(lambda: not any(p.name.startswith("_MEIstale01") for p in _extraction_dirs(env)), timeout=30,
                   message="the leftover _MEI folder (and its -stale- rename) to go")
        assert foreign.exists()  # not ours (no marker): never touched
        assert len([p for p in _extraction_dirs(env) if p != foreign]) == 1  # only the live one


@pytest.fixture
def fake_telegram(tmp_path) -> Iterator[tuple[str, Path]]:
    record = tmp_path / "telegram.jsonl"
    proc = subprocess.Popen([sys.executable, "-m", "tests.fakes.telegram_api", "--port", "0", "--record", str(record)],
                            cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        ready = json.loads(proc.stdout.readline())
        yield ready["base_url"], record
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)


def _sent_messages(record: Path) -> list[dict]:
    if not record.exists():
        return []
    lines = [json.loads(line) for line in record.read_text().splitlines() if line.strip()]
    return [r for r in lines if r["method"] == "sendMessage"]


def test_demo_then_check_run_all_delivers_to_the_fake_telegram(binary, env, tmp_path, fake_telegram):
    base_url, record = fake_telegram
    env = {**env, "WATCHKEEPER_TELEGRAM_TOKEN": TOKEN, "WATCHKEEPER_TELEGRAM_CHAT_ID": CHAT,
           "WATCHKEEPER_TELEGRAM_API_URL": base_url}
    with instance(binary, env, "--headless", log=tmp_path / "run.log"):
        wait_until(lambda: heartbeat(_db(env)), timeout=60, message="a heartbeat row")
        demo = run_bin(binary, "demo", env=env)
        assert demo.returncode == 0, demo.stderr
        checks = run_bin(binary, "check", "run", "--all", "--json", env=env)
        assert checks.returncode == 0, checks.stderr
        decisions = {r["check"]: r["decision"] for r in json.loads(checks.stdout)}
        assert decisions["stale_applications"] == "SENT"
        sent = wait_until(lambda: _sent_messages(record), timeout=30, message="a sendMessage at the fake")
        assert str(sent[0]["params"]["chat_id"]) == CHAT
        assert any("Acme Corp" in m["params"].get("text", "") or "applic" in m["params"].get("text", "").lower()
                   for m in sent), sent


# -- the tray icon under Xvfb + trayer -------------------------------------------------------------


def _xvfb_tools() -> str | None:
    missing = [t for t in ("Xvfb", "trayer", "xdotool", "xwininfo", "xdpyinfo") if shutil.which(t) is None]
    return f"missing {', '.join(missing)} (apt-get install xvfb trayer xdotool x11-utils)" if missing else None


@pytest.fixture
def tray_display(tmp_path) -> Iterator[str]:
    reason = _xvfb_tools()
    if reason:
        if _require():
            pytest.fail(f"WATCHKEEPER_REQUIRE_BINARY=1 but {reason}")
        pytest.skip(reason)
    # -displayfd: Xvfb picks a free display number itself and reports it (no races with other
    # Xvfb users, e.g. the tray tests running at the same time).
    read_fd, write_fd = os.pipe()
    xvfb = subprocess.Popen(["Xvfb", "-displayfd", str(write_fd), "-screen", "0", "320x80x24", "-nolisten", "tcp"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, pass_fds=(write_fd,))
    os.close(write_fd)
    procs = [xvfb]
    try:
        with os.fdopen(read_fd, "rb") as pipe:
            ready, _, _ = select.select([pipe], [], [], 120)  # never block forever on a stuck Xvfb
            number = pipe.readline().strip() if ready else b""
        assert number, "Xvfb did not report a display number within 120 s"
        display = f":{int(number)}"
        xenv = {**os.environ, "DISPLAY": display}
        wait_until(lambda: subprocess.run(["xdpyinfo"], env=xenv, capture_output=True,
                                          timeout=X_TOOL_TIMEOUT).returncode == 0,
                   timeout=120, interval=0.1, message="Xvfb")
        procs.append(subprocess.Popen(
            ["trayer", "--edge", "top", "--align", "left", "--widthtype", "pixel", "--width", "200",
             "--heighttype", "pixel", "--height", "40", "--transparent", "false", "--tint", "0x336699"],
            env=xenv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        wait_until(lambda: _tray_host(display), timeout=120, interval=0.1, message="trayer to own the tray selection")
        yield display
    finally:
        for proc in reversed(procs):
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(10)


def _tray_host(display: str) -> bool:
    """Whether an XEMBED tray host owns _NET_SYSTEM_TRAY_S0 (python-xlib, a pystray dependency)."""
    from Xlib import X, error
    from Xlib import display as xdisplay

    try:
        disp = xdisplay.Display(display)
    except (error.DisplayError, OSError):
        return False
    try:
        return disp.get_selection_owner(disp.intern_atom("_NET_SYSTEM_TRAY_S0")) != X.NONE
    finally:
        disp.close()


X_TOOL_TIMEOUT = 60  # one xdotool/xwininfo call; generous, as a loaded machine can be slow to answer


def _x_tool(xenv: dict[str, str], *argv: str) -> str:
    """stdout of an X client tool ("" when it failed or did not answer in time: ask again later)."""
    try:
        return subprocess.run(list(argv), env=xenv, capture_output=True, text=True, timeout=X_TOOL_TIMEOUT).stdout
    except subprocess.TimeoutExpired:
        return ""


def _search(xenv: dict[str, str], *args: str) -> list[str]:
    return _x_tool(xenv, "xdotool", "search", *args).split()


def _docked_icon(xenv: dict[str, str]) -> dict[str, str] | None:
    """The pystray icon window (WM_CLASS watchkeeperSystemTrayIcon) once viewable inside trayer."""
    for wid in _search(xenv, "--classname", "^watchkeeperSystemTrayIcon$"):
        info = _x_tool(xenv, "xwininfo", "-id", wid)
        tree = _x_tool(xenv, "xwininfo", "-tree", "-id", wid)
        fields = dict(line.strip().split(": ", 1) for line in info.splitlines() if ": " in line)
        parent = next((line for line in tree.splitlines() if "Parent window id" in line), "")
        if fields.get("Map State") == "IsViewable" and "(the root window)" not in parent \
                and int(fields.get("Width", "0")) > 0:
            return fields
    return None


@pytest.mark.gui
def test_binary_shows_its_tray_icon_under_xvfb(binary, env, tmp_path, tray_display):
    if not (ROOT / "tray" / "app.py").exists():
        pytest.skip("tray/app.py is not there yet (the tray is being built)")
    xenv = {**env, "DISPLAY": tray_display}
    log = tmp_path / "tray.log"
    with instance(binary, xenv, log=log) as proc:
        try:
            fields = wait_until(lambda: _docked_icon(xenv), timeout=180, interval=0.2,
                                message="the icon docked in trayer")
        except AssertionError as exc:
            raise AssertionError(f"{exc}; binary log:\n{log.read_text()}") from None
        assert int(fields["Width"]) > 0 and int(fields["Height"]) > 0
        assert proc.poll() is None
        assert "running headless" not in log.read_text()
        # The stop arrives right after the icon docks: pystray's xorg loop can miss it; the runner's
        # exit watchdog then ends the process cleanly within a few seconds.
        stop = run_bin(binary, "stop", env=xenv, timeout=120)
        assert stop.returncode == 0, stop.stderr
        assert proc.wait(120) == 0
