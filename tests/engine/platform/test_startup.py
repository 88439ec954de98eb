"""Start at login: real XDG autostart files on Linux; the Windows logic (task XML, exact schtasks
command lines, Run-key fallback, never both) through an injected runner and registry leaf."""

from __future__ import annotations

import json
import plistlib
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from engine.platform import startup
from engine.platform.startup import (
    METHOD_RUN_KEY,
    METHOD_TASK,
    METHOD_XDG,
    CommandResult,
    WindowsStartup,
    desktop_entry,
    desktop_exec,
    launch_agent_plist,
    launch_command,
    linux_startup,
    mac_startup,
    task_xml,
    windows_command_line,
)
from tests.helpers import ROOT, cli

NS = {"t": "http://schemas.microsoft.com/windows/2004/02/mit/task"}
EXE = r"C:\Program Files\Watchkeeper\watchkeeper.exe"
USER = r"OFFICE\alice"
RUN_KEY_LOCATION = r"HKCU\Software\Microsoft\Windows\CurrentVersion\Run\Watchkeeper"


# -- what is started ------------------------------------------------------------------------------


def test_launch_command_frozen_is_the_exe_itself():
    assert launch_command(frozen=True, executable=EXE, platform="win32") == [EXE, "run"]
    assert launch_command(frozen=True, executable="/opt/wk/watchkeeper", platform="linux") == [
        "/opt/wk/watchkeeper", "run"]


def test_launch_command_from_source_uses_pythonw_on_windows_and_python_elsewhere():
    assert launch_command(frozen=False, executable=r"C:\Users\a\wk\.venv\Scripts\python.exe", platform="win32") == [
        r"C:\Users\a\wk\.venv\Scripts\pythonw.exe", "-m", "tray.main", "run"]
    assert launch_command(frozen=False, executable="/home/a/.venv/bin/python", platform="linux") == [
        "/home/a/.venv/bin/python", "-m", "tray.main", "run"]


def test_launch_command_carries_watchkeeper_home_as_an_absolute_path(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    env = {"WATCHKEEPER_HOME": "wk data"}
    assert launch_command(frozen=False, executable="/home/a/.venv/bin/python", platform="linux", env=env) == [
        "/home/a/.venv/bin/python", "-m", "tray.main", "--home", str(tmp_path / "wk data"), "run"]
    assert launch_command(frozen=True, executable="/opt/wk/watchkeeper", platform="linux", env=env) == [
        "/opt/wk/watchkeeper", "--home", str(tmp_path / "wk data"), "run"]
    assert launch_command(frozen=True, executable="/opt/wk/watchkeeper", platform="linux", env={}) == [
        "/opt/wk/watchkeeper", "run"]


def test_windows_task_and_run_key_carry_watchkeeper_home_as_an_option():
    argv = launch_command(frozen=True, executable=EXE, platform="win32", env={"WATCHKEEPER_HOME": r"D:\wk data"})
    assert argv == [EXE, "--home", r"D:\wk data", "run"]
    assert windows_command_line(argv) == rf'"{EXE}" --home "D:\wk data" run'
    command = _parse(task_xml(argv, USER)).find("t:Actions/t:Exec/t:Arguments", NS)
    assert command is not None and command.text == r'--home "D:\wk data" run'


def test_desktop_exec_quotes_a_home_with_spaces_and_quotes_as_one_argument():
    argv = ["/usr/bin/python3", "-m", "tray.main", "--home", '/home/a/my "wk" $data', "run"]
    assert desktop_exec(argv) == r'/usr/bin/python3 -m tray.main --home "/home/a/my \\"wk\\" \\$data" run'


def test_windows_command_line_quotes_the_program():
    assert windows_command_line([EXE, "run"]) == rf'"{EXE}" run'
    assert windows_command_line([r"C:\wk\pythonw.exe", "-m", "engine", "run"]) == r'"C:\wk\pythonw.exe" -m engine run'


# -- Windows: the task XML ------------------------------------------------------------------------


def _parse(xml_text: str) -> ET.Element:
    # ElementTree refuses a str that declares UTF-16; parse the bytes as they are written to disk.
    return ET.fromstring(xml_text.encode("utf-16"))


def test_task_xml_is_well_formed_and_has_the_required_elements():
    root = _parse(task_xml([EXE, "run"], USER))
    assert root.tag == f"{{{NS['t']}}}Task" and root.get("version") == "1.2"

    def text(path: str) -> str | None:
        node = root.find(path, NS)
        assert node is not None, f"missing {path}"
        return node.text

    # Logon trigger for the current user only (what a non-administrator may register).
    assert text("t:Triggers/t:LogonTrigger/t:Enabled") == "true"
    assert text("t:Triggers/t:LogonTrigger/t:UserId") == USER
    assert len(root.findall("t:Triggers/*", NS)) == 1
    principal = root.find("t:Principals/t:Principal", NS)
    assert principal is not None and principal.get("id") == "Author"
    assert text("t:Principals/t:Principal/t:UserId") == USER
    assert text("t:Principals/t:Principal/t:LogonType") == "InteractiveToken"
    assert text("t:Principals/t:Principal/t:RunLevel") == "LeastPrivilege"
    # Battery, time limit, restart, single instance.
    assert text("t:Settings/t:DisallowStartIfOnBatteries") == "false"
    assert text("t:Settings/t:StopIfGoingOnBatteries") == "false"
    assert text("t:Settings/t:ExecutionTimeLimit") == "PT0S"
    assert text("t:Settings/t:RestartOnFailure/t:Interval") == "PT1M"
    assert text("t:Settings/t:RestartOnFailure/t:Count") == "3"
    assert text("t:Settings/t:MultipleInstancesPolicy") == "IgnoreNew"
    assert text("t:Settings/t:Enabled") == "true"
    # The action.
    assert root.find("t:Actions", NS).get("Context") == "Author"  # type: ignore[union-attr]
    assert text("t:Actions/t:Exec/t:Command") == EXE
    assert text("t:Actions/t:Exec/t:Arguments") == "run"
    assert text("t:Actions/t:Exec/t:WorkingDirectory") == r"C:\Program Files\Watchkeeper"


def test_task_xml_escapes_and_matches_the_packaging_template():
    odd = task_xml([r"C:\R&D <x>\watchkeeper.exe", "run"], r"DOM\o'neil&co")
    root = _parse(odd)
    assert root.find("t:Actions/t:Exec/t:Command", NS).text == r"C:\R&D <x>\watchkeeper.exe"  # type: ignore[union-attr]
    assert root.find("t:Principals/t:Principal/t:UserId", NS).text == r"DOM\o'neil&co"  # type: ignore[union-attr]
    # packaging/watchkeeper-task.xml is the same definition with placeholders.
    template = (ROOT / "packaging" / "watchkeeper-task.xml").read_text("utf-8")
    filled = (template.replace("{{USER_ID}}", USER).replace("{{COMMAND}}", EXE)
              .replace("{{ARGUMENTS}}", "run").replace("{{WORKING_DIRECTORY}}", r"C:\Program Files\Watchkeeper"))
    assert filled == task_xml([EXE, "run"], USER)


def test_task_xml_from_source_starts_pythonw_module():
    root = _parse(task_xml([r"C:\py\pythonw.exe", "-m", "engine", "run"], USER))
    assert root.find("t:Actions/t:Exec/t:Command", NS).text == r"C:\py\pythonw.exe"  # type: ignore[union-attr]
    assert root.find("t:Actions/t:Exec/t:Arguments", NS).text == "-m engine run"  # type: ignore[union-attr]


# -- Windows: schtasks and the Run key through injected leaves ---------------------------------------


class FakeScheduler:
    """schtasks.exe as a dict of tasks; ``refuse`` makes /Create fail like a locked-down account."""

    def __init__(self, refuse: str | None = None) -> None:
        self.tasks: dict[str, str] = {}
        self.calls: list[list[str]] = []
        self.xml_files: list[bytes] = []
        self.refuse = refuse
        self.refuse_delete = False

    def __call__(self, args: list[str]) -> CommandResult:
        self.calls.append(list(args))
        assert args[0] == "schtasks.exe"
        verb, name = args[1], args[3]
        if verb == "/Create":
            self.xml_files.append(Path(args[5]).read_bytes())
            if self.refuse:
                return CommandResult(1, "", self.refuse)
            self.tasks[name] = Path(args[5]).read_bytes().decode("utf-16")
            return CommandResult(0, f'SUCCESS: The scheduled task "{name}" has successfully been created.\r\n')
        if verb == "/Query":
            if name in self.tasks:
                return CommandResult(0, self.tasks[name])
            return CommandResult(1, "", "ERROR: The system cannot find the file specified.\r\n")
        if verb == "/Delete":
            if self.refuse_delete:
                return CommandResult(1, "", "ERROR: Access is denied.\r\n")
            if self.tasks.pop(name, None) is None:
                return CommandResult(1, "", "ERROR: The system cannot find the file specified.\r\n")
            return CommandResult(0, f'SUCCESS: The scheduled task "{name}" was successfully deleted.\r\n')
        raise AssertionError(args)


class FakeRunKey:
    def __init__(self) -> None:
        self.values: dict[str, str] = {}

    def get(self, name: str) -> str | None:
        return self.values.get(name)

    def set(self, name: str, value: str) -> None:
        self.values[name] = value

    def delete(self, name: str) -> bool:
        return self.values.pop(name, None) is not None


def _win(tmp_path, sched: FakeScheduler, run_key: FakeRunKey | None = None) -> WindowsStartup:
    return WindowsStartup(runner=sched, run_key=run_key or FakeRunKey(), user_id=USER, argv=[EXE, "run"],
                          temp_dir=str(tmp_path))


TN = "Watchkeeper-alice"
QUERY = ["schtasks.exe", "/Query", "/TN", TN, "/XML"]
DELETE = ["schtasks.exe", "/Delete", "/TN", TN, "/F"]


def _create(call: list[str], tmp_path) -> None:
    assert call[:5] == ["schtasks.exe", "/Create", "/TN", TN, "/XML"] and call[6:] == ["/F"]
    assert Path(call[5]).parent == tmp_path and call[5].endswith(".xml")


def test_windows_install_creates_the_task_from_utf16_xml(tmp_path):
    sched, run_key = FakeScheduler(), FakeRunKey()
    win = _win(tmp_path, sched, run_key)
    result = win.install()
    assert (result.ok, result.method, result.changed, result.location) == (True, METHOD_TASK, True, TN)
    assert result.command == rf'"{EXE}" run'
    assert len(sched.calls) == 1
    _create(sched.calls[0], tmp_path)
    written = sched.xml_files[0]
    assert written.startswith(b"\xff\xfe")  # UTF-16 with BOM, matching the declaration
    assert written.decode("utf-16") == task_xml([EXE, "run"], USER)
    assert list(tmp_path.iterdir()) == []  # the temporary XML file is removed
    assert run_key.values == {}

    state = win.status()
    assert (state.registered, state.method, state.location, state.command) == (True, METHOD_TASK, TN, f"{EXE} run")
    assert sched.calls[-1] == QUERY


def test_windows_install_twice_registers_one_task_and_no_run_key(tmp_path):
    sched, run_key = FakeScheduler(), FakeRunKey()
    win = _win(tmp_path, sched, run_key)
    assert win.install().method == METHOD_TASK
    assert win.install().method == METHOD_TASK
    assert list(sched.tasks) == [TN] and run_key.values == {}
    assert [c[1] for c in sched.calls] == ["/Create", "/Create"]  # /F replaces in place


def test_windows_refusal_falls_back_to_the_run_key_and_says_so(tmp_path):
    sched, run_key = FakeScheduler(refuse="ERROR: Access is denied.\r\n"), FakeRunKey()
    win = _win(tmp_path, sched, run_key)
    result = win.install()
    assert (result.ok, result.method, result.location) == (True, METHOD_RUN_KEY, RUN_KEY_LOCATION)
    assert result.fallback_reason == "ERROR: Access is denied."
    assert "refused" in result.message and "Run key" in result.message
    assert run_key.values == {"Watchkeeper": rf'"{EXE}" run'}
    assert sched.tasks == {}
    assert [c[1] for c in sched.calls] == ["/Create", "/Query"]
    assert sched.calls[1] == QUERY

    state = win.status()
    assert (state.registered, state.method, state.command) == (True, METHOD_RUN_KEY, rf'"{EXE}" run')
    # Twice: still one Run value, still no task.
    assert win.install().method == METHOD_RUN_KEY
    assert run_key.values == {"Watchkeeper": rf'"{EXE}" run'} and sched.tasks == {}


def test_windows_other_schtasks_failure_also_falls_back_but_is_not_called_refusal(tmp_path):
    sched = FakeScheduler(refuse="ERROR: The task XML is malformed.\r\n")
    result = _win(tmp_path, sched).install()
    assert result.method == METHOD_RUN_KEY and "failed" in result.message and "refused" not in result.message


def test_windows_task_replaces_an_earlier_run_key_never_both(tmp_path):
    sched, run_key = FakeScheduler(), FakeRunKey()
    run_key.set("Watchkeeper", '"C:\\old\\watchkeeper.exe" run')
    result = _win(tmp_path, sched, run_key).install()
    assert result.method == METHOD_TASK and result.removed == [METHOD_RUN_KEY]
    assert run_key.values == {} and list(sched.tasks) == [TN]


def test_windows_existing_task_that_cannot_be_replaced_is_kept_without_a_run_key(tmp_path):
    sched, run_key = FakeScheduler(), FakeRunKey()
    win = _win(tmp_path, sched, run_key)
    win.install()
    sched.refuse, sched.refuse_delete = "ERROR: Access is denied.\r\n", True
    result = win.install()
    assert (result.ok, result.method, result.changed) == (True, METHOD_TASK, False)
    assert "kept the existing task" in result.message
    assert run_key.values == {} and list(sched.tasks) == [TN]
    assert sched.calls[-3:-2][0][1] == "/Create" and sched.calls[-2:] == [QUERY, DELETE]


def test_windows_status_reports_both_as_a_problem_and_uninstall_removes_both(tmp_path):
    sched, run_key = FakeScheduler(), FakeRunKey()
    win = _win(tmp_path, sched, run_key)
    win.install()
    run_key.set("Watchkeeper", "stray")
    state = win.status()
    assert state.method == METHOD_TASK and state.problems and "both" in state.problems[0]
    sched.calls.clear()
    result = win.uninstall()
    assert (result.ok, result.changed, result.removed) == (True, True, [METHOD_TASK, METHOD_RUN_KEY])
    assert sched.calls == [QUERY, DELETE]
    assert win.status().registered is False
    again = win.uninstall()
    assert (again.ok, again.changed, again.method, again.message) == (True, False, None, "nothing was registered")


def test_windows_uninstall_reports_a_task_it_cannot_delete(tmp_path):
    sched = FakeScheduler()
    win = _win(tmp_path, sched)
    win.install()
    sched.refuse_delete = True
    result = win.uninstall()
    assert result.ok is False and "could not delete task" in result.message


def test_task_name_is_per_user_and_safe():
    assert startup.task_name(r"OFFICE\alice") == "Watchkeeper-alice"
    assert startup.task_name(r"PC\Jane Doe (admin)") == "Watchkeeper-Jane_Doe_admin"


def test_windows_module_imports_and_builds_user_id_on_linux():
    from engine.platform import windows

    assert windows.current_user_id({"USERNAME": "alice", "USERDOMAIN": "OFFICE"}) == r"OFFICE\alice"
    assert windows.current_user_id({"USERNAME": "bob", "COMPUTERNAME": "PC1"}) == r"PC1\bob"
    assert windows.RunKeyLeaf(startup.RUN_KEY_PATH).key_path.endswith(r"CurrentVersion\Run")


# -- Linux: real XDG autostart files ----------------------------------------------------------------


def test_desktop_exec_quoting():
    assert desktop_exec(["/usr/bin/python3", "-m", "engine", "run"]) == "/usr/bin/python3 -m engine run"
    assert desktop_exec(["/home/a b/py", "100%"]) == '"/home/a b/py" 100%%'
    assert desktop_exec(['/x/$y"z']) == '"/x/\\\\$y\\\\"z"'


def test_linux_install_status_uninstall_with_real_files(tmp_path):
    env = {"XDG_CONFIG_HOME": str(tmp_path / "cfg")}
    backend = linux_startup(argv=["/opt/wk/watchkeeper", "run"], env=env, icon=None)
    entry = tmp_path / "cfg" / "autostart" / "watchkeeper.desktop"
    assert startup.status(backend).registered is False
    first = startup.install(backend)
    assert (first.ok, first.method, first.changed, first.location) == (True, METHOD_XDG, True, str(entry))
    assert entry.read_text() == desktop_entry(["/opt/wk/watchkeeper", "run"])
    second = startup.install(backend)
    assert (second.ok, second.changed) == (True, False)
    assert [p.name for p in entry.parent.iterdir()] == ["watchkeeper.desktop"]
    state = startup.status(backend)
    assert (state.registered, state.method, state.command) == (True, METHOD_XDG, "/opt/wk/watchkeeper run")
    removed = startup.uninstall(backend)
    assert (removed.ok, removed.method, removed.changed) == (True, METHOD_XDG, True)
    assert not entry.exists() and startup.status(backend).registered is False
    assert startup.uninstall(backend).changed is False


def test_linux_disabled_entry_is_not_registered(tmp_path):
    backend = linux_startup(argv=["/x", "run"], env={"XDG_CONFIG_HOME": str(tmp_path)}, icon=None)
    backend.install()
    backend.path.write_text(backend.path.read_text().replace("Hidden=false", "Hidden=true"))
    state = backend.status()
    assert state.registered is False and "disabled" in state.problems[0]
    assert backend.install().changed is True and backend.status().registered is True


def test_macos_launch_agent_plist(tmp_path):
    data = plistlib.loads(launch_agent_plist(["/Applications/wk", "run"]))
    assert data == {"Label": "com.watchkeeper.agent", "ProgramArguments": ["/Applications/wk", "run"],
                    "RunAtLoad": True, "ProcessType": "Interactive", "LimitLoadToSessionType": "Aqua"}
    backend = mac_startup(argv=["/Applications/wk", "run"], home=tmp_path)
    assert backend.install().changed and backend.status().method == "launch-agent"
    assert (tmp_path / "Library" / "LaunchAgents" / "com.watchkeeper.agent.plist").is_file()
    assert backend.uninstall().changed and not backend.status().registered


@pytest.mark.skipif(sys.platform != "linux", reason="XDG autostart is the Linux mechanism")
def test_cli_startup_install_status_uninstall(tmp_path, wk_home):
    env = {"XDG_CONFIG_HOME": str(tmp_path / "xdg")}
    entry = tmp_path / "xdg" / "autostart" / "watchkeeper.desktop"
    assert cli("startup", "status", env=env).returncode == 1
    for _ in range(2):
        out = cli("startup", "install", env=env, check=True).stdout
        assert out.startswith(f"installed: XDG autostart entry ({entry})")
    assert [p.name for p in entry.parent.iterdir()] == ["watchkeeper.desktop"]
    assert f"Exec={sys.executable} -m tray.main --home {wk_home.home} run" in entry.read_text()
    state = json.loads(cli("startup", "status", "--json", env=env, check=True).stdout)
    assert (state["registered"], state["method"], state["location"]) == (True, "xdg-autostart", str(entry))
    assert cli("startup", "uninstall", env=env, check=True).stdout == f"uninstalled: removed {entry}\n"
    assert not entry.exists()
    assert cli("startup", "status", env=env).stdout == "not registered\n"


def _exec_argv(entry_text: str) -> list[str]:
    """The argv of a desktop entry's Exec line, unquoted as the Desktop Entry Specification says."""
    import shlex

    value = next(line[len("Exec="):] for line in entry_text.splitlines() if line.startswith("Exec="))
    return shlex.split(value.replace("\\\\", "\\").replace("%%", "%"))


@pytest.mark.skipif(sys.platform != "linux", reason="XDG autostart is the Linux mechanism")
def test_cli_startup_install_registers_watchkeeper_home_and_the_command_uses_it(tmp_path, wk_home):
    import os
    import subprocess

    home = tmp_path / "my wk"  # a space: the registered command must quote it
    env = {"XDG_CONFIG_HOME": str(tmp_path / "xdg"), "WATCHKEEPER_HOME": str(home)}
    cli("startup", "install", env=env, check=True)
    entry = (tmp_path / "xdg" / "autostart" / "watchkeeper.desktop").read_text()
    argv = _exec_argv(entry)
    assert argv[-3:] == ["--home", str(home), "run"]
    status = cli("startup", "status", env=env, check=True).stdout
    assert f'--home "{home}" run' in status
    # Started as the session would start it (without WATCHKEEPER_HOME of its own), it uses that folder.
    session_env = {k: v for k, v in os.environ.items() if k != "WATCHKEEPER_HOME"}
    done = subprocess.run([*argv[:-1], "config", "path"], capture_output=True, text=True, env=session_env,
                          cwd=ROOT, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == str(home / "config" / "config.toml")
