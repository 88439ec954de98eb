"""Which command lines run an engine instance (pure): only those can be orphans."""

from __future__ import annotations

import pytest

from engine.process.lifecycle import is_engine_instance, watchkeeper_args

INSTANCES = [
    ["watchkeeper", "run", "--headless"],
    ["watchkeeper"],  # no command: the tray app
    ["/opt/wk/watchkeeper", "run", "--kill-orphans"],  # the one-file binary (bootloader and child alike)
    ["C:\\Program Files\\Watchkeeper\\watchkeeper.exe", "run"],
    ["C:\\Program Files\\Watchkeeper\\watchkeeperw.exe"],
    ["watchkeeperw", "--kill-orphans"],
    ["/usr/bin/python3.11", "-m", "engine", "run", "--headless"],
    ["python3", "-m", "engine"],
    ["python", "-u", "-X", "utf8", "-m", "engine.cli", "run"],
    ["/home/u/.venv/bin/python", "/home/u/.venv/bin/watchkeeper", "run"],  # a console script via its shebang
    ["pythonw.exe", "-m", "tray"],
    ["py", "-m", "tray.app", "--kill-orphans"],
    ["/home/u/.venv/bin/python", "-m", "tray.main", "run"],  # `python3 dev.py run`, start at login from source
    ["python", "-m", "tray.main"],
]

NOT_INSTANCES = [
    [],
    ["watchkeeper", "archive", "run"],
    ["/home/u/.venv/bin/python", "/home/u/.venv/bin/watchkeeper", "archive", "run"],
    ["python", "-m", "engine", "telegram", "setup"],
    ["python", "-m", "engine", "check", "run", "backup_fresh"],
    ["watchkeeper", "stop"],
    ["watchkeeper", "--version"],
    ["python", "-m", "engine", "--help"],
    ["python", "-m", "tray.main", "status"],
    ["python", "/tmp/watchkeeper_orphan.py"],
    ["python", "-c", "import engine; print('watchkeeper run')"],
    ["python", "-m", "pytest", "tests/engine", "-k", "watchkeeper", "run"],
    ["bash", "-c", "watchkeeper run"],
    ["vim", "watchkeeper"],
    ["/usr/bin/watchkeeper-backup", "run"],
]


@pytest.mark.parametrize("cmdline", INSTANCES, ids=" ".join)
def test_engine_instances_are_recognised(cmdline):
    assert is_engine_instance(cmdline)


@pytest.mark.parametrize("cmdline", NOT_INSTANCES, ids=lambda c: " ".join(c) or "empty")
def test_other_commands_and_programs_are_not_instances(cmdline):
    assert not is_engine_instance(cmdline)


def test_gui_entry_points_imply_run():
    assert watchkeeper_args(["watchkeeperw", "--kill-orphans"]) == ["run", "--kill-orphans"]
    assert watchkeeper_args(["python", "-m", "tray"]) == ["run"]
    assert watchkeeper_args(["python", "-m", "engine", "archive", "run"]) == ["archive", "run"]
    assert watchkeeper_args(["python", "-m", "pytest"]) is None
