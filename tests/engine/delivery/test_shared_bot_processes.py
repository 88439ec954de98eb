"""One bot token, two real instances (processes) on one Bot API fake: the second stands by for commands."""

from __future__ import annotations

import json
import time
from pathlib import Path

import psutil

from engine.paths import resolve_paths
from tests.conftest import free_port
from tests.delivery_helpers import CHAT, TOKEN
from tests.helpers import cli, start_instance, wait_until

STANDBY = "Telegram commands are handled by another instance (or program) using this bot"
QUIET_CHECKS = ("[checks.disk_space]\nenabled = false\n[checks.endpoint]\nenabled = false\n"
                "[checks.listening_ports]\nenabled = false\n")


def _home(root: Path) -> dict[str, str]:
    """A data folder of its own (its own API port) and the environment that points an instance at it."""
    env = {"WATCHKEEPER_HOME": str(root)}
    paths = resolve_paths(env).ensure()
    paths.config_file.write_text(f"[api]\nport = {free_port()}\n{QUIET_CHECKS}")
    paths.config_file.chmod(0o600)
    return env


def _telegram(status: dict) -> dict:
    return next((c for c in status.get("channels", []) if c["name"] == "telegram"), {})


def _status(env: dict[str, str]) -> dict:
    """`status --json` (its exit code says the health, 1 while starting or with open alerts)."""
    out = cli("status", "--json", env=env).stdout
    return json.loads(out) if out.strip().startswith("{") else {}


def test_two_instances_on_one_bot_the_second_stands_by_quietly_and_both_still_deliver(tmp_path, fake, monkeypatch):
    monkeypatch.setenv("WATCHKEEPER_TELEGRAM_TOKEN", TOKEN)
    monkeypatch.setenv("WATCHKEEPER_TELEGRAM_CHAT_ID", str(CHAT))
    monkeypatch.setenv("WATCHKEEPER_TELEGRAM_API_URL", fake.base_url)
    first_env, second_env = _home(tmp_path / "first"), _home(tmp_path / "second")
    logs = [tmp_path / "first.out", tmp_path / "second.out"]
    first = start_instance(env=first_env, log=logs[0])
    second = None
    try:
        wait_until(lambda: fake.requests_for("getUpdates"), timeout=30, message="the first instance polling")
        polling_since = fake.requests_for("getUpdates")[0].t
        # the first has polled longer than a cut-short poll (1 s) when the second comes
        wait_until(lambda: time.monotonic() - polling_since > 2.0, timeout=10)
        second = start_instance(env=second_env, log=logs[1])
        wait_until(lambda: _telegram(_status(second_env)).get("state") == "standby", timeout=30,
                   message="the second instance in standby")
        assert _telegram(_status(second_env))["reason"] == STANDBY
        assert _telegram(_status(first_env))["state"] == "ok"
        assert f"Channel telegram: standby ({STANDBY})" in cli("status", env=second_env).stdout
        doctor = cli("doctor", env=second_env)
        assert f"OK      channel telegram: standby ({STANDBY})" in doctor.stdout

        # ~20 s side by side: no poll fight (a few requests, a few log lines), little CPU
        procs = [psutil.Process(first.pid), psutil.Process(second.pid)]
        cpu_before = [sum(p.cpu_times()[:2]) for p in procs]
        polls_before, lines_before = len(fake.requests_for("getUpdates")), [_lines(p) for p in logs]
        started = time.monotonic()
        wait_until(lambda: time.monotonic() - started >= 20, timeout=30, interval=0.5)
        elapsed = time.monotonic() - started
        cpu = [(sum(p.cpu_times()[:2]) - before) / elapsed for p, before in zip(procs, cpu_before, strict=True)]
        print(f"CPU over {elapsed:.1f}s: first {cpu[0]:.1%}, second {cpu[1]:.1%}")
        assert all(share < 0.05 for share in cpu), cpu
        assert len(fake.requests_for("getUpdates")) - polls_before <= 5  # long polls, no fight
        assert all(_lines(p) - before <= 3 for p, before in zip(logs, lines_before, strict=True))
        assert first.poll() is None and second.poll() is None  # no crash

        # the standby one still sends; commands are answered once, by the first
        for env in (first_env, second_env):
            cli("demo", env=env, check=True)
            cli("check", "run", "stale_applications", env=env, check=True)
        wait_until(lambda: sum("no answer for 9 days" in m.text for m in fake.messages) == 2, timeout=30,
                   message="both instances' alerts delivered")
        assert _telegram(_status(second_env))["state"] == "standby"
    finally:
        for env, proc in ((first_env, first), (second_env, second)):
            if proc is not None:
                cli("stop", env=env)
                try:
                    proc.wait(20)
                except Exception:
                    proc.kill()
    assert TOKEN not in logs[0].read_text() + logs[1].read_text()


def _lines(path: Path) -> int:
    return len(path.read_text(errors="replace").splitlines()) if path.exists() else 0
