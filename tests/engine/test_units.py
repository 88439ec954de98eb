"""The composition root: the engine runs what it is given (modules, services), and the arrows
point one way (the store imports no feature, the engine never imports the tray)."""

from __future__ import annotations

import ast
import dataclasses
from typing import Any

from engine.engine import Engine
from engine.modules.base import ModuleContext
from engine.units import CHANNELS, CHECK_KINDS, MIGRATIONS, MODULES, UNITS
from tests.helpers import ROOT, parse_config

QUIET = {"toast": {"enabled": False}, "api": {"enabled": False},
         "checks": {name: {"enabled": False} for name in ("disk_space", "endpoint", "listening_ports")}}


class Tally:
    """A scheduled module that counts its runs."""

    name = "tally"
    description = "counts its runs"

    def __init__(self) -> None:
        self.contexts: list[ModuleContext] = []

    def schedule(self, config: Any) -> str | None:
        return "every 1h"

    def run(self, context: ModuleContext) -> None:
        self.contexts.append(context)


class Off(Tally):
    name = "off"

    def schedule(self, config: Any) -> str | None:
        return None


def test_engine_schedules_each_registered_module_its_config_turns_on(wk_home):
    tally = Tally()
    units = dataclasses.replace(UNITS, modules=(tally, Off()))
    engine = Engine(wk_home, parse_config({**QUIET, "archive": {"enabled": False}}, env={}), units)
    engine.start()
    try:
        assert "tally" in engine.scheduler.specs and "off" not in engine.scheduler.specs
        assert "weekly" not in engine.scheduler.specs  # only what it is given
        engine.run_now("tally")
        from tests.helpers import wait_until

        wait_until(lambda: tally.contexts, timeout=10, message="the module's run")
        context = tally.contexts[0]
        assert context.db is engine.db and context.paths == wk_home and context.dispatcher is engine.checks.dispatcher
    finally:
        engine.stop("test")


def test_the_archive_modules_follow_the_archive_switch():
    on = parse_config({}, env={})
    off = parse_config({"archive": {"enabled": False}}, env={})
    assert [m.name for m in MODULES if m.schedule(on)] == ["weekly", "archive", "session_watch"]
    assert [m.name for m in MODULES if m.schedule(off)] == ["weekly"]


def test_engine_starts_the_registered_services_that_its_config_turns_on(wk_home):
    started: list[str] = []

    class Service:
        def __init__(self, name: str) -> None:
            self.name = name

        def start(self) -> None:
            started.append(self.name)

        def close(self) -> None:
            started.append(f"closed {self.name}")

    units = dataclasses.replace(UNITS, services=(lambda engine: Service("one"), lambda engine: None))
    engine = Engine(wk_home, parse_config({**QUIET, "archive": {"enabled": False}}, env={}), units)
    engine.start()
    engine.stop("test")
    assert started == ["one", "closed one"]


def test_every_registry_is_complete_and_unique():
    assert [k.kind for k in CHECK_KINDS.builtin] == [
        "stale_applications", "session_crash", "goal_staleness", "disk_space", "endpoint", "listening_ports",
        "autostart_entries"]
    assert [c.name for c in CHANNELS] == ["toast", "telegram"]
    assert sorted(CHECK_KINDS.user_by_name()) == ["command", "sql"]
    names = [m.name for m in MIGRATIONS]
    assert len(names) == len(set(names)) and names[0].startswith("core_")


def _imports(path) -> list[str]:
    """Every module ``path`` imports, function-level imports included."""
    found: list[str] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append(node.module)
    return found


def test_the_engine_never_imports_the_tray():
    offenders = [(str(p.relative_to(ROOT)), m) for p in (ROOT / "engine").rglob("*.py")
                 for m in _imports(p) if m == "tray" or m.startswith("tray.")]
    assert offenders == []


def test_the_tray_app_does_not_import_the_cli_back():
    assert not [m for m in _imports(ROOT / "tray" / "app.py") if m.startswith("engine.cli")]


def test_the_store_and_the_config_import_no_feature():
    allowed = ("engine.store", "engine.timeutil", "engine.privatefile", "engine.schedule_spec", "engine.paths")
    for path in [*(ROOT / "engine" / "store").glob("*.py"), ROOT / "engine" / "config.py"]:
        engine_imports = [m for m in _imports(path) if m.startswith("engine")]
        assert all(m.startswith(allowed) for m in engine_imports), (path.name, engine_imports)
