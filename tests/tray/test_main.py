"""Entry points: `watchkeeper`/`watchkeeperw` give `run` the tray as its frontend; `python -m engine`
(engine.cli.main without a frontend) and `run --headless` never show it."""

from __future__ import annotations

import sys
from typing import Any

import pytest

from engine import cli
from engine.units import UNITS
from tray import main as tray_main


@pytest.fixture
def runs(monkeypatch, wk_home) -> list[dict[str, Any]]:
    seen: list[dict[str, Any]] = []

    def fake_run_instance(paths, config, units, **kwargs):
        seen.append({"units": units, **kwargs})
        return 0

    monkeypatch.setattr("engine.process.runner.run_instance", fake_run_instance)
    return seen


def test_watchkeeper_gives_run_and_no_command_the_tray_frontend(runs):
    assert tray_main.main(["run"]) == 0
    assert tray_main.main([]) == 0
    assert [r["frontend"] for r in runs] == [tray_main.tray_frontend, tray_main.tray_frontend]
    assert all(r["units"] is UNITS for r in runs)


def test_headless_run_and_the_engine_cli_show_no_frontend(runs):
    assert tray_main.main(["run", "--headless", "--kill-orphans"]) == 0
    assert cli.main(["run"], units=UNITS) == 0  # what `python -m engine run` does
    assert [(r["frontend"], r["kill_orphans"]) for r in runs] == [(None, True), (None, False)]


def test_watchkeeperw_is_watchkeeper_run(monkeypatch, runs):
    monkeypatch.setattr(sys, "argv", ["watchkeeperw", "--kill-orphans"])
    assert tray_main.gui_main() == 0
    assert [(r["frontend"], r["kill_orphans"]) for r in runs] == [(tray_main.tray_frontend, True)]
