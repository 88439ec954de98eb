"""Security with real processes: another local user, private files, and clients without a token
that try to exhaust the control channel or the local API."""

from __future__ import annotations

import json
import os
import pickle
import resource
import shutil
import socket
import stat
import subprocess
import sys
import textwrap
import tomllib
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from engine.paths import Paths, resolve_paths
from tests.helpers import cli, start_instance, wait_until

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX modes and users")

PRIVATE_FILES = ("config.toml", "watchkeeper.db", "watchkeeper.db-wal", "watchkeeper.db-shm", "control.json",
                 "api-token", "watchkeeper.log")


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _file(paths: Paths, name: str) -> Path:
    if name == "config.toml":
        return paths.config_file
    if name.startswith("watchkeeper.log"):
        return paths.log_dir / name
    return paths.data_dir / name


def _api_port(paths: Paths) -> int:
    return int(tomllib.loads(paths.config_file.read_text())["api"]["port"])


def _status(env: dict[str, str] | None = None) -> dict | None:
    result = cli("status", "--json", env=env, timeout=20)
    return json.loads(result.stdout) if result.returncode == 0 else None


def _health(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=10) as response:
            return response.status == 200
    except OSError:
        return False


@pytest.fixture
def instance(wk_home) -> Iterator[subprocess.Popen]:
    """A running instance (heartbeat every second, API warmed up) on the wk_home folders."""
    with wk_home.config_file.open("a") as config:
        config.write("\n[heartbeat]\ninterval_seconds = 1\n")
    proc = start_instance(log=wk_home.data_dir.parent / "instance-output.log")
    try:
        wait_until(lambda: proc.poll() is not None or (_status() or {}).get("running"), timeout=60,
                   message="the instance to run")
        assert proc.poll() is None, "the instance exited"
        wait_until(lambda: _health(_api_port(wk_home)), timeout=60, message="GET /health")
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(30)


def _heartbeat_advances() -> None:
    first = wait_until(lambda: (_status() or {}).get("last_heartbeat"), timeout=20, message="a heartbeat")
    wait_until(lambda: ((_status() or {}).get("last_heartbeat") or "") > first, timeout=20,
               message="the heartbeat to advance")


# -- item 3: files and folders private from creation ----------------------------------------------


def test_private_files_are_0600_and_folders_0700_from_creation_even_with_umask_0(tmp_path):
    from engine.config import set_config_values
    from tests.conftest import free_port

    env = {"WATCHKEEPER_HOME": str(tmp_path / "fresh")}
    paths = resolve_paths(env)
    old = os.umask(0)
    try:
        set_config_values(paths.config_file, "api", {"port": free_port()})  # creates config/ and config.toml
        set_config_values(paths.config_file, "heartbeat", {"interval_seconds": 1})
        proc = start_instance(env=env)
        try:
            wait_until(lambda: (_status(env) or {}).get("running"), timeout=60, message="the instance to run")
            wait_until(lambda: _health(_api_port(paths)), timeout=60, message="GET /health")
            assert cli("api", "token", "--read-only", env=env).returncode == 0
        finally:
            cli("stop", env=env, timeout=60)
            proc.wait(30)
    finally:
        os.umask(old)
    modes = {name: _mode(_file(paths, name)) for name in PRIVATE_FILES if _file(paths, name).exists()}
    assert set(modes) >= {"config.toml", "watchkeeper.db", "api-token", "watchkeeper.log"}
    modes["api-token-readonly"] = _mode(paths.data_dir / "api-token-readonly")
    assert modes == dict.fromkeys(modes, 0o600)
    assert {str(p): _mode(p) for p in paths.folders} == dict.fromkeys(map(str, paths.folders), 0o700)


def test_control_file_is_0600_from_its_first_byte_even_with_umask_0(tmp_path, monkeypatch):
    """Every byte of a private file is written to a descriptor that is already 0600."""
    import engine.privatefile as privatefile
    from engine.process.control import ControlServer

    modes: list[int] = []
    real_write = os.write

    def watching_write(fd, data):
        if os.readlink(f"/proc/self/fd/{fd}").startswith(str(tmp_path)):
            modes.append(stat.S_IMODE(os.fstat(fd).st_mode))
        return real_write(fd, data)

    monkeypatch.setattr(privatefile.os, "write", watching_write)
    old = os.umask(0)
    try:
        server = ControlServer(tmp_path / "control.json", {})
        server.start()
        server.close()
    finally:
        os.umask(old)
    assert modes and set(modes) == {0o600}


def test_existing_loose_folders_and_files_are_tightened(tmp_path):
    from engine.config import ensure_config_file
    from engine.logsetup import setup_logging
    from engine.units import open_db

    paths = resolve_paths({"WATCHKEEPER_HOME": str(tmp_path / "old")})
    for folder in paths.folders:
        folder.mkdir(parents=True, mode=0o755)
        os.chmod(folder, 0o755)
    for path in (paths.config_file, paths.db_file, paths.log_file, Path(f"{paths.log_file}.1")):
        path.write_text("")
        os.chmod(path, 0o644)
    paths.db_file.unlink()  # an empty file is not a database; let SQLite make it
    open_db(paths.db_file).close()
    os.chmod(paths.db_file, 0o644)

    paths.ensure()
    ensure_config_file(paths.config_file)
    open_db(paths.db_file).close()
    setup_logging(paths.log_file, stderr=False)
    try:
        assert {str(p): _mode(p) for p in paths.folders} == dict.fromkeys(map(str, paths.folders), 0o700)
        for path in (paths.config_file, paths.db_file, paths.log_file, Path(f"{paths.log_file}.1")):
            assert _mode(path) == 0o600, path
    finally:
        setup_logging(None, stderr=False)


def test_log_rotations_stay_0600(tmp_path):
    from engine.logsetup import PrivateRotatingFileHandler

    old = os.umask(0)
    try:
        handler = PrivateRotatingFileHandler(tmp_path / "w.log", maxBytes=10, backupCount=2)
        for n in range(5):
            handler.emit(__import__("logging").makeLogRecord({"msg": f"line {n} " * 3}))
        handler.close()
    finally:
        os.umask(old)
    files = sorted(tmp_path.glob("w.log*"))
    assert len(files) == 3 and {_mode(f) for f in files} == {0o600}


def test_database_backups_are_0600_in_a_0700_folder(tmp_path, db):
    from datetime import UTC, datetime

    from engine.modules.weekly import backup_database

    old = os.umask(0)
    try:
        target = backup_database(tmp_path / "test.db", tmp_path / "backups", datetime(2025, 1, 5, tzinfo=UTC), keep=2)
    finally:
        os.umask(old)
    assert (_mode(tmp_path / "backups"), _mode(target)) == (0o700, 0o600)


def test_doctor_names_each_loose_path_with_the_chmod_that_fixes_it(wk_home):
    assert cli("api", "token").returncode == 0
    token = wk_home.data_dir / "api-token"
    os.chmod(wk_home.data_dir, 0o755)
    os.chmod(token, 0o644)

    os.chmod(wk_home.config_file, 0o640)

    result = cli("doctor")
    assert result.returncode == 1
    problems = [line for line in result.stdout.splitlines() if line.startswith("PROBLEM permissions")]
    assert problems == [
        f"PROBLEM permissions: {wk_home.data_dir} is 0755: other users can reach it. Fix: chmod 700 {wk_home.data_dir}",
        f"PROBLEM permissions: {wk_home.config_file} is 0640: other users can reach it. "
        f"Fix: chmod 600 {wk_home.config_file}",
        f"PROBLEM permissions: {token} is 0644: other users can reach it. Fix: chmod 600 {token}",
    ]
    for line in problems:
        subprocess.run(line.split("Fix: ")[1], shell=True, check=True)
    assert "OK      permissions: folders 0700 and files 0600: private to you" in cli("doctor").stdout


# -- items 1 and 3: another local user -------------------------------------------------------------


def _as_nobody(script: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["runuser", "-u", "nobody", "--", "/usr/bin/python3", "-c", textwrap.dedent(script),
                           *args], capture_output=True, text=True, timeout=60, cwd="/")


@pytest.fixture
def traversable_tmp(tmp_path) -> Iterator[Path]:
    """Make the folders above WATCHKEEPER_HOME traversable by others, so only Watchkeeper's own
    modes protect its files (pytest's /tmp/pytest-of-root is 0700 and would hide everything)."""
    changed = []
    folder = tmp_path
    while folder != folder.parent and folder != Path("/tmp"):
        changed.append((folder, _mode(folder)))
        os.chmod(folder, 0o755)
        folder = folder.parent
    yield tmp_path
    for path, mode in changed:
        os.chmod(path, mode)


NOBODY_READS = """
    import sys
    for path in sys.argv[1:]:
        try:
            open(path, "rb").read(1)
            print("READ", path)
        except OSError as exc:
            print("REFUSED", path, type(exc).__name__)
"""

NOBODY_SENDS_PICKLE = """
    import json, os, pickle, socket, struct, sys
    port, marker = int(sys.argv[1]), sys.argv[2]

    class Touch:
        def __reduce__(self):
            return (os.system, ("touch " + marker,))

    payload = pickle.dumps(Touch())
    for wire in (payload, struct.pack(">I", len(payload)) + payload,
                 struct.pack("!i", len(payload)) + payload):  # raw, our framing, multiprocessing's framing
        with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
            sock.sendall(wire)
            try:
                while sock.recv(65536):
                    pass
            except OSError:
                pass
    from multiprocessing.connection import Client
    try:
        with Client(("127.0.0.1", port), authkey=b"guess" * 8) as conn:
            conn.send(Touch())
        print("CLIENT CONNECTED")
    except BaseException as exc:
        print("CLIENT REFUSED", type(exc).__name__)
"""


@pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("runuser"), reason="needs root and runuser")
def test_another_user_can_neither_read_the_files_nor_run_code_through_the_control_channel(
        traversable_tmp, instance, wk_home):
    from multiprocessing.connection import Client

    secret_files = [wk_home.control_file, wk_home.db_file, wk_home.log_file, wk_home.data_dir / "api-token"]
    assert all(p.exists() for p in secret_files)
    marker = traversable_tmp / "pwned"
    control = json.loads(wk_home.control_file.read_text())

    reads = _as_nobody(NOBODY_READS, *map(str, secret_files))
    assert reads.returncode == 0, reads.stderr
    assert reads.stdout.count("REFUSED") == len(secret_files), reads.stdout

    sends = _as_nobody(NOBODY_SENDS_PICKLE, str(control["port"]), str(marker))
    assert sends.returncode == 0, sends.stderr
    assert "CLIENT REFUSED" in sends.stdout

    # Even with the key (as if it had leaked), pickle is never evaluated: the old channel's client
    # cannot complete a handshake, and a pickle frame is refused as malformed.
    class Touch:
        def __reduce__(self):
            return (os.system, (f"touch {marker}",))

    with pytest.raises((AssertionError, EOFError, OSError)), \
            Client(("127.0.0.1", control["port"]), authkey=bytes.fromhex(control["key"])) as conn:
        conn.send(Touch())
    assert pickle.dumps(Touch())  # (the payload is a real one)

    assert (_status() or {}).get("running"), "the instance still answers its owner"
    assert not marker.exists()


# -- item 2: denial of service without a token -----------------------------------------------------


def test_idle_control_connections_block_neither_status_nor_stop(instance, wk_home):
    control = json.loads(wk_home.control_file.read_text())
    address = ("127.0.0.1", control["port"])
    idle = [socket.create_connection(address, timeout=10)]
    try:
        assert (_status() or {}).get("running")
        idle += [socket.create_connection(address, timeout=10) for _ in range(200)]
        assert (_status() or {}).get("running")
        stop = cli("stop", timeout=30)
        assert stop.returncode == 0, stop.stderr
        instance.wait(30)
    finally:
        for sock in idle:
            sock.close()


def _open_slow_header_connections(port: int, count: int) -> list[socket.socket]:
    socks = []
    for _ in range(count):
        try:
            sock = socket.create_connection(("127.0.0.1", port), timeout=5)
            sock.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n")  # and never the end of the headers
            socks.append(sock)
        except OSError:
            pass  # refused or reset by the server at once: that is the cap working
    return socks


def test_a_thousand_slow_header_connections_leave_status_the_api_and_the_heartbeat_working(instance, wk_home):
    # The instance gets a modest file-handle limit (desktops often have 1024), the test a large one.
    resource.prlimit(instance.pid, resource.RLIMIT_NOFILE, (512, 512))
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < 4096:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(4096, hard), hard))
    port = _api_port(wk_home)
    socks = _open_slow_header_connections(port, 1000)
    try:
        assert _health(port), "the API answers during the attack"
        assert (_status() or {}).get("running"), "status answers during the attack"
        _heartbeat_advances()
    finally:
        for sock in socks:
            sock.close()
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    assert _health(port)
    _heartbeat_advances()
    assert instance.poll() is None


def test_a_client_that_never_finishes_its_headers_is_closed(instance, wk_home):
    with socket.create_connection(("127.0.0.1", _api_port(wk_home)), timeout=30) as sock:
        sock.settimeout(0.5)  # paces the dribble below: one byte per half second, until the server hangs up
        closed = False
        for byte in b"GET /health HTTP/1.1\r\nX-Slow: " + b"a" * 200:
            try:
                sock.sendall(bytes([byte]))
                closed = sock.recv(65536) == b""
            except TimeoutError:
                continue
            except OSError:
                closed = True
            if closed:
                break
        assert closed, "the server kept a slow-header client open"
