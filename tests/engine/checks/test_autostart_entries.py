"""autostart_entries: login-startup entries read for real (files, symlinks, a crontab program),
the Windows readers through injected leaves, and baseline/new/resolved/allowed/reset through the
real CheckService on a SQLite file."""

from __future__ import annotations

import json
import plistlib
import struct
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from engine import runtime_state
from engine.alerts.dispatcher import Dispatcher
from engine.checks.autostart_entries import (
    AutostartEntriesCheck,
    StartupEntry,
    crontab_entries,
    linux_entries,
    logon_tasks,
    mac_entries,
    new_entries,
    reboot_commands,
    reset_baseline,
    run_key_entries,
    shortcut_command,
    startup_folder_entries,
    systemd_user_entries,
    task_entries,
    unit_exec_start,
    windows_entries,
    xdg_entries,
)
from engine.checks.base import CheckContext, CheckDefinition, CheckError
from engine.checks.registry import build_definitions
from engine.checks.service import CheckService
from engine.config import ConfigError
from engine.platform import posix
from engine.units import CHECK_KINDS
from tests.helpers import cli, parse_config

NOW = datetime(2026, 11, 20, 12, tzinfo=UTC)
FAKE_CRONTAB = """#!/bin/sh
[ "$1" = "-l" ] || exit 2
if [ -f "$FAKE_CRONTAB" ]; then cat "$FAKE_CRONTAB"; else echo "no crontab for $(id -un)" >&2; exit 1; fi
"""


@pytest.fixture
def home(tmp_path, monkeypatch) -> Path:
    """A temporary HOME with XDG folders, system folders under it and a `crontab` program on PATH."""
    home = tmp_path / "home"
    (home / ".config" / "autostart").mkdir(parents=True)
    (tmp_path / "etc-xdg" / "autostart").mkdir(parents=True)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "crontab").write_text(FAKE_CRONTAB)
    (bin_dir / "crontab").chmod(0o755)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("XDG_CONFIG_DIRS", str(tmp_path / "etc-xdg"))
    monkeypatch.setenv("FAKE_CRONTAB", str(home / "crontab.txt"))
    monkeypatch.setenv("PATH", f"{bin_dir}:/usr/bin:/bin")
    return home


def _env(home: Path) -> dict[str, str]:
    return {"HOME": str(home), "XDG_CONFIG_HOME": str(home / ".config"),
            "XDG_CONFIG_DIRS": str(home.parent / "etc-xdg")}


def _desktop(folder: Path, name: str, exec_line: str, *extra: str) -> Path:
    path = folder / name
    path.write_text("\n".join(["[Desktop Entry]", "Type=Application", f"Name={Path(name).stem.title()}",
                               "Name[de]=Lokal", f"Exec={exec_line}", *extra, "", "[Desktop Action new]",
                               "Exec=/not/this"]) + "\n")
    return path


# -- Linux: XDG autostart ---------------------------------------------------------------------------


def test_xdg_entries_honour_disabled_flags_user_overrides_and_skip_watchkeeper(home):
    user, system = home / ".config" / "autostart", home.parent / "etc-xdg" / "autostart"
    _desktop(user, "foo.desktop", "/usr/bin/foo --bar")
    _desktop(user, "hidden.desktop", "/usr/bin/hidden", "Hidden=true")
    _desktop(user, "watchkeeper.desktop", "/usr/bin/python3 -m engine run")
    _desktop(system, "gnome-off.desktop", "/usr/bin/off", "X-GNOME-Autostart-enabled=false")
    _desktop(system, "bar.desktop", "bar-daemon")
    _desktop(system, "override.desktop", "/usr/bin/system-version")
    _desktop(user, "override.desktop", "/usr/bin/system-version", "Hidden=True")  # the user turned it off

    entries = xdg_entries(_env(home), include_system=True)

    assert entries == [
        StartupEntry("xdg:~/.config/autostart/foo.desktop", "Foo", "/usr/bin/foo --bar"),
        StartupEntry(f"xdg:{system}/bar.desktop", "Bar", "bar-daemon", system=True),
    ]
    assert [e.id for e in xdg_entries(_env(home), include_system=False)] == ["xdg:~/.config/autostart/foo.desktop"]


def test_systemd_user_unit_linked_into_a_wants_folder_is_an_entry_with_its_exec_start(home, tmp_path):
    units = home / ".config" / "systemd" / "user"
    (units / "default.target.wants").mkdir(parents=True)
    (units / "sync.service").write_text("[Unit]\nDescription=Sync\n[Service]\nExecStart=-/usr/bin/sync --watch\n"
                                        "[Install]\nWantedBy=default.target\n")
    (units / "default.target.wants" / "sync.service").symlink_to("../sync.service")
    (units / "not-a-wants-folder").mkdir()
    (units / "not-a-wants-folder" / "x.service").write_text("[Service]\nExecStart=/bin/x\n")
    system = tmp_path / "etc-systemd-user"
    (system / "sockets.target.wants").mkdir(parents=True)
    (system / "sockets.target.wants" / "gone.socket").symlink_to("/nonexistent/gone.socket")

    assert systemd_user_entries(_env(home), include_system=False, system_dirs=[str(system)]) == [
        StartupEntry("systemd-user:~/.config/systemd/user/default.target.wants/sync.service", "sync.service",
                     "/usr/bin/sync --watch")]
    everything = systemd_user_entries(_env(home), include_system=True, system_dirs=[str(system)])
    assert everything[-1] == StartupEntry(f"systemd-user:{system}/sockets.target.wants/gone.socket", "gone.socket",
                                          "(missing unit /nonexistent/gone.socket)", system=True)


def test_exec_start_reads_the_service_section_and_an_empty_assignment_resets_it():
    text = ("[Unit]\nExecStart=/not/a/service/key\n[Service]\nExecStart=/bin/a\nExecStart=\n"
            "ExecStartPre=/bin/pre\nExecStart=@/bin/b arg\nExecStart=/bin/c\n")
    assert unit_exec_start(text) == "/bin/b arg; /bin/c"
    assert unit_exec_start("[Service]\nType=oneshot\n") == ""


def test_reboot_lines_of_a_real_crontab_program_are_entries(home):
    (home / "crontab.txt").write_text("# m h dom mon dow command\nMAILTO=me\n@reboot /home/me/bin/start --now\n"
                                      "*/5 * * * * /usr/bin/backup\n  @REBOOT   sleep 60 && ./tunnel\n"
                                      "@reboot /home/me/bin/start --now\n")
    assert crontab_entries() == [
        StartupEntry("crontab:/home/me/bin/start --now", "crontab @reboot", "/home/me/bin/start --now"),
        StartupEntry("crontab:sleep 60 && ./tunnel", "crontab @reboot", "sleep 60 && ./tunnel"),
    ]


def test_no_crontab_and_no_crontab_program_mean_no_entries(home):
    assert crontab_entries() == []  # the fake program says "no crontab for USER" and exits 1
    assert crontab_entries(lambda args: posix.run_hidden(["/nonexistent/crontab", *args[1:]])) == []


def test_a_crontab_that_cannot_be_read_otherwise_is_a_check_error():
    with pytest.raises(CheckError, match="crontab -l` exited 1: crontab: your UID isn't in the passwd file"):
        crontab_entries(lambda args: (1, "", "crontab: your UID isn't in the passwd file\n"))


def test_reboot_commands_ignore_other_schedules_and_comments():
    assert reboot_commands("#@reboot /old\n@daily /x\n@reboot\n@reboot  a b\n") == ["a b"]


def test_linux_entries_combine_the_three_sources(home):
    _desktop(home / ".config" / "autostart", "foo.desktop", "foo")
    (home / "crontab.txt").write_text("@reboot /bin/tunnel\n")
    ids = [e.id for e in linux_entries(False, env=_env(home))]
    assert ids == ["xdg:~/.config/autostart/foo.desktop", "crontab:/bin/tunnel"]


# -- macOS: LaunchAgents ----------------------------------------------------------------------------


def test_launch_agents_that_run_at_load_are_entries(tmp_path):
    home = tmp_path / "home"
    user = home / "Library" / "LaunchAgents"
    system = tmp_path / "Library-LaunchAgents"
    user.mkdir(parents=True)
    system.mkdir()

    def agent(folder: Path, label: str, fmt: plistlib.PlistFormat = plistlib.FMT_XML, **keys) -> None:
        (folder / f"{label}.plist").write_bytes(plistlib.dumps({"Label": label, **keys}, fmt=fmt))

    agent(user, "com.example.sync", ProgramArguments=["/Applications/Sync.app/sync", "--bg"], RunAtLoad=True)
    agent(user, "com.example.keep", fmt=plistlib.FMT_BINARY, Program="/usr/local/bin/keep", KeepAlive={"A": 1})
    agent(user, "com.example.ondemand", Program="/usr/local/bin/ondemand")
    agent(user, "com.example.off", Program="/usr/local/bin/off", RunAtLoad=True, Disabled=True)
    agent(user, "com.watchkeeper.agent", ProgramArguments=["/usr/bin/python3", "-m", "engine", "run"], RunAtLoad=True)
    (user / "broken.plist").write_bytes(b"<plist><dict><key>")
    agent(system, "com.vendor.updater", ProgramArguments=["/Library/updater"], RunAtLoad=True)

    assert mac_entries(False, home=str(home), system_dirs=[str(system)]) == [
        StartupEntry("launch-agent:~/Library/LaunchAgents/com.example.keep.plist", "com.example.keep",
                     "/usr/local/bin/keep"),
        StartupEntry("launch-agent:~/Library/LaunchAgents/com.example.sync.plist", "com.example.sync",
                     "/Applications/Sync.app/sync --bg"),
    ]
    assert mac_entries(True, home=str(home), system_dirs=[str(system)])[-1] == StartupEntry(
        f"launch-agent:{system}/com.vendor.updater.plist", "com.vendor.updater", "/Library/updater", system=True)


# -- Windows: Run keys, Startup folders, logon tasks ------------------------------------------------

REGISTRY = {
    ("HKCU", r"Software\Microsoft\Windows\CurrentVersion\Run", 0): [
        ("OneDrive", '"C:\\Users\\me\\AppData\\Local\\Microsoft\\OneDrive\\OneDrive.exe" /background'),
        ("Watchkeeper", '"C:\\Python\\pythonw.exe" -m engine run')],
    ("HKCU", r"Software\Microsoft\Windows\CurrentVersion\RunOnce", 0): [("Setup", "C:\\setup.exe /finish")],
    ("HKLM", r"Software\Microsoft\Windows\CurrentVersion\Run", 64): [("SecurityHealth", "C:\\Windows\\sh.exe")],
    ("HKLM", r"Software\Microsoft\Windows\CurrentVersion\Run", 32): [("Updater", "C:\\x86\\upd.exe")],
}


def _read_registry(hive: str, key: str, view: int) -> list[tuple[str, str]]:
    return REGISTRY.get((hive, key, view), [])


def test_run_key_values_are_entries_except_watchkeepers_own():
    assert [(e.id, e.system) for e in run_key_entries(_read_registry, include_system=True)] == [
        ("hkcu-run:OneDrive", False), ("hkcu-runonce:Setup", False), ("hklm-run:SecurityHealth", True),
        ("hklm-run32:Updater", True)]
    (onedrive, _) = run_key_entries(_read_registry, include_system=False)
    assert onedrive.command.endswith("OneDrive.exe\" /background")


def _shortcut(target: str, arguments: str = "", unicode_info: bool = False) -> bytes:
    """A minimal Shell Link: header, LinkInfo with a local base path, a relative path and arguments."""
    flags = 0x02 | 0x08 | 0x80 | (0x20 if arguments else 0)
    header = struct.pack("<I16sI", 0x4C, bytes.fromhex("0114020000000000c000000000000046"), flags) + bytes(0x4C - 24)
    if unicode_info:
        base, suffix = target.encode("utf-16-le") + b"\0\0", b"\0\0"
        fields = 36
        info_head = struct.pack("<7I2I", 0, fields, 1, 0, 0, 0, 0, fields, fields + len(base))
        body = base + suffix
    else:
        base, suffix = target.encode("latin-1") + b"\0", b"\0"
        fields = 28
        info_head = struct.pack("<7I", 0, fields, 1, 0, fields, 0, fields + len(base))
        body = base + suffix
    info = info_head + body
    info = struct.pack("<I", len(info)) + info[4:]

    def string(text: str) -> bytes:
        return struct.pack("<H", len(text)) + text.encode("utf-16-le")

    tail = string("..\\..\\ignored.exe") + (string(arguments) if arguments else b"")
    return header + info + tail


def test_shortcut_command_reads_target_and_arguments():
    assert shortcut_command(_shortcut("C:\\Tools\\agent.exe", "--tray")) == "C:\\Tools\\agent.exe --tray"
    assert shortcut_command(_shortcut("C:\\Programme\\Grüße.exe", unicode_info=True)) == "C:\\Programme\\Grüße.exe"
    assert shortcut_command(b"not a shortcut") is None
    assert shortcut_command(_shortcut("C:\\Tools\\agent.exe", "--tray")[:-4]) is None


def test_startup_folder_files_are_entries_with_shortcut_targets(tmp_path):
    env = {"APPDATA": str(tmp_path / "Roaming"), "PROGRAMDATA": str(tmp_path / "ProgramData")}
    tail = ("Microsoft", "Windows", "Start Menu", "Programs", "Startup")
    user = Path(env["APPDATA"]).joinpath(*tail)
    common = Path(env["PROGRAMDATA"]).joinpath(*tail)
    user.mkdir(parents=True)
    common.mkdir(parents=True)
    (user / "Agent.lnk").write_bytes(_shortcut("C:\\Tools\\agent.exe", "--tray"))
    (user / "run.bat").write_text("@echo off\n")
    (user / "desktop.ini").write_text("[.ShellClassInfo]\n")
    (common / "Vendor.lnk").write_bytes(b"garbage")

    assert startup_folder_entries(env, include_system=False) == [
        StartupEntry("startup:Agent.lnk", "Agent", "C:\\Tools\\agent.exe --tray"),
        StartupEntry("startup:run.bat", "run", str(user / "run.bat")),
    ]
    assert startup_folder_entries(env, include_system=True)[-1] == StartupEntry(
        "common-startup:Vendor.lnk", "Vendor", str(common / "Vendor.lnk"), system=True)


def _task(path: str, triggers: str, *, enabled: str = "true",
          actions: str = "<Exec><Command>C:\\app.exe</Command><Arguments>/min</Arguments></Exec>") -> str:
    return (f"<!-- {path} -->\n<Task version=\"1.2\" xmlns=\"http://schemas.microsoft.com/windows/2004/02/mit/task\">"
            f"<Triggers>{triggers}</Triggers><Settings><Enabled>{enabled}</Enabled></Settings>"
            f"<Actions Context=\"Author\">{actions}</Actions></Task>\n")


SCHTASKS_OUTPUT = "".join([
    '<?xml version="1.0" encoding="UTF-16"?>\n<Tasks>\n',
    _task("\\Updater", "<LogonTrigger><Enabled>true</Enabled><UserId>PC\\me</UserId></LogonTrigger>"),
    _task("\\Vendor\\Tray", "<CalendarTrigger/><LogonTrigger/>",
          actions="<Exec><Command>\"C:\\Program Files\\tray.exe\"</Command></Exec>"
                  "<ComHandler><ClassId>{1234}</ClassId></ComHandler>"),
    _task("\\Nightly", "<CalendarTrigger><StartBoundary>2026-01-01T03:00:00</StartBoundary></CalendarTrigger>"),
    _task("\\TriggerOff", "<LogonTrigger><Enabled>false</Enabled></LogonTrigger>"),
    _task("\\TaskOff", "<LogonTrigger/>", enabled="false"),
    _task("\\Watchkeeper-me", "<LogonTrigger/>"),
    _task("\\Microsoft\\Windows\\Shell\\Logon", "<LogonTrigger/>"),
    "<!-- \\Broken -->\n<Task><Triggers><LogonTrigger></Triggers></Task>\n",
    "</Tasks>\n",
])


def test_logon_tasks_are_parsed_from_schtasks_xml():
    tasks = logon_tasks(SCHTASKS_OUTPUT)
    assert [(t.path, t.command) for t in tasks] == [
        ("\\Updater", "C:\\app.exe /min"),
        ("\\Vendor\\Tray", "\"C:\\Program Files\\tray.exe\"; COM handler {1234}"),
        ("\\Watchkeeper-me", "C:\\app.exe /min"),
        ("\\Microsoft\\Windows\\Shell\\Logon", "C:\\app.exe /min"),
    ]


def test_task_entries_leave_out_watchkeepers_task_and_windows_own_without_include_system():
    calls = []

    def schtasks(args):
        calls.append(args)
        return 0, SCHTASKS_OUTPUT, ""

    entries = task_entries(schtasks, include_system=False, own_task="\\Watchkeeper-me")
    assert [e.id for e in entries] == ["task:\\Updater", "task:\\Vendor\\Tray"]
    assert entries[1].name == "Tray"
    assert calls == [["schtasks.exe", "/Query", "/XML"]]
    assert task_entries(schtasks, True, "\\Watchkeeper-me")[-1].system is True


def test_schtasks_failure_is_a_check_error_naming_it():
    with pytest.raises(CheckError, match="schtasks exited 1: ERROR: Access is denied"):
        task_entries(lambda args: (1, "", "ERROR: Access is denied.\r\n"), True, "\\Watchkeeper-me")


def test_windows_entries_combine_registry_folders_and_tasks_and_know_the_users_task(tmp_path):
    env = {"APPDATA": str(tmp_path / "Roaming"), "USERNAME": "me", "USERDOMAIN": "PC"}
    ids = [e.id for e in windows_entries(False, read=_read_registry, run=lambda args: (0, SCHTASKS_OUTPUT, ""),
                                         env=env)]
    assert ids == ["hkcu-run:OneDrive", "hkcu-runonce:Setup", "task:\\Updater", "task:\\Vendor\\Tray"]


# -- the check through the real CheckService --------------------------------------------------------


def _service(db, clock: list[datetime], **params) -> CheckService:
    kind = AutostartEntriesCheck
    definition = CheckDefinition(kind.kind, kind, True, kind.schedule, kind.cooldown, kind.severity,
                                 {**{n: p.default for n, p in kind.params.items()}, "include_system": False, **params})
    return CheckService(db, [definition], Dispatcher(db), lambda: clock[0], UTC)


def _open_alerts(db) -> list[tuple[str, str]]:
    return db.execute_sql("SELECT subject, title FROM alerts WHERE check_name = 'autostart_entries'"
                          " AND state != 'resolved' ORDER BY subject").fetchall()


def test_baseline_then_new_entry_is_an_alert_that_resolves_when_removed(home, db):
    autostart = home / ".config" / "autostart"
    _desktop(autostart, "known.desktop", "/usr/bin/known")
    clock = [NOW]
    first = _service(db, clock).run("autostart_entries")
    assert (first.outcome, first.findings) == ("ok", [])
    stored = runtime_state.get_value(db, "check.autostart_entries.baseline")
    assert json.loads(stored) == ["xdg:~/.config/autostart/known.desktop"]

    _desktop(autostart, "foo.desktop", "/usr/bin/foo --bar")
    (home / "crontab.txt").write_text("@reboot /tmp/.x/miner\n")
    clock[0] += timedelta(hours=1)
    second = _service(db, clock).run("autostart_entries")
    assert second.outcome == "firing" and second.dispatch.decision.action == "SENT"
    assert _open_alerts(db) == [
        ("crontab:/tmp/.x/miner", "New login startup entry: crontab @reboot (runs /tmp/.x/miner)"),
        ("xdg:~/.config/autostart/foo.desktop", "New login startup entry: Foo (runs /usr/bin/foo --bar)"),
    ]
    assert json.loads(runtime_state.get_value(db, "check.autostart_entries.baseline")) == json.loads(stored)

    (autostart / "foo.desktop").unlink()
    clock[0] += timedelta(hours=1)
    third = _service(db, clock, allowed=["crontab:/tmp/.x/miner"]).run("autostart_entries")
    assert (third.outcome, len(third.dispatch.resolved)) == ("ok", 2)
    assert _open_alerts(db) == []


def test_reset_makes_the_next_run_take_a_new_baseline(home, db):
    clock = [NOW]
    _service(db, clock).run("autostart_entries")
    _desktop(home / ".config" / "autostart", "foo.desktop", "/usr/bin/foo")
    assert _service(db, clock).run("autostart_entries").outcome == "firing"
    reset_baseline(lambda key, value: runtime_state.set_value(db, f"check.autostart_entries.{key}", value))
    clock[0] += timedelta(hours=1)
    assert _service(db, clock).run("autostart_entries").outcome == "ok"
    assert _service(db, clock).run("autostart_entries").outcome == "ok"
    assert _open_alerts(db) == []


def test_new_entries_skip_baseline_and_allowed_and_report_an_id_once():
    current = [StartupEntry("a:1", "one", "x"), StartupEntry("b:2", "two", "y"), StartupEntry("b:2", "dup", "z"),
               StartupEntry("c:3", "three", "w")]
    assert [e.name for e in new_entries(current, baseline=["a:1"], allowed=["c:3"])] == ["two"]


def test_a_long_command_is_clipped_in_the_title():
    check = AutostartEntriesCheck(lister=lambda include_system: [StartupEntry("x:long", "long", "a" * 500)])
    state: dict[str, str | None] = {"baseline": "[]"}
    ctx = CheckContext(db=None, now=NOW, params={}, name="autostart_entries", get_state=state.get,
                       set_state=state.__setitem__)
    (finding,) = check.evaluate(ctx)
    assert len(finding.title) < 260 and finding.title.endswith("…)")


def test_check_baseline_cli_shows_and_resets_the_autostart_baseline(home, wk_home):
    with wk_home.config_file.open("a") as fh:
        fh.write("[checks.autostart_entries]\ninclude_system = false\n")
    _desktop(home / ".config" / "autostart", "foo.desktop", "foo")
    assert "No baseline yet: the first run of autostart_entries takes it." in cli(
        "check", "baseline", "autostart_entries", check=True).stdout
    cli("check", "run", "autostart_entries", check=True)
    assert "1 startup entries in the baseline: xdg:~/.config/autostart/foo.desktop" in cli(
        "check", "baseline", "autostart_entries", check=True).stdout
    assert "forgotten" in cli("check", "baseline", "autostart_entries", "--reset", check=True).stdout
    assert json.loads(cli("check", "baseline", "autostart_entries", "--json").stdout)["baseline"] is None
    wrong = cli("check", "baseline", "disk_space")
    assert wrong.returncode == 2 and "checks with one: " in wrong.stderr and "autostart_entries" in wrong.stderr


# -- config -----------------------------------------------------------------------------------------


def test_the_check_is_registered_with_its_defaults():
    kind = CHECK_KINDS.builtin_by_name()["autostart_entries"]
    assert (kind.schedule, kind.cooldown, kind.severity) == ("every 1h", "24h", "warning")
    settings = {"allowed": ["hkcu-run:OneDrive"], "include_system": False}
    definitions, warnings = build_definitions(parse_config({"checks": {"autostart_entries": settings}}, env={}),
                                              CHECK_KINDS)
    (definition,) = [d for d in definitions if d.name == "autostart_entries"]
    assert warnings == [] and definition.params == {"allowed": ["hkcu-run:OneDrive"], "include_system": False}


@pytest.mark.parametrize(("settings", "problem"), [
    ({"allowed": "hkcu-run:OneDrive"}, "allowed = 'hkcu-run:OneDrive' is not allowed: expected list"),
    ({"allowed": ["OneDrive"]}, "allowed = ['OneDrive'] is not allowed: expected a list of entry ids"),
    ({"allowed": [3]}, "expected a list of entry ids"),
    ({"include_system": "yes"}, "include_system = 'yes' is not allowed: expected bool"),
])
def test_bad_settings_are_refused_naming_the_key(settings, problem):
    with pytest.raises(ConfigError) as info:
        build_definitions(parse_config({"checks": {"autostart_entries": settings}}, env={}), CHECK_KINDS)
    assert str(info.value).startswith("checks.autostart_entries.") and problem in str(info.value)


def test_config_validate_refuses_a_bad_allowed_list(wk_home):
    with wk_home.config_file.open("a") as fh:
        fh.write('[checks.autostart_entries]\nallowed = ["OneDrive"]\n')
    result = cli("config", "validate")
    assert result.returncode == 2
    assert ("checks.autostart_entries.allowed = ['OneDrive'] is not allowed: expected a list of entry ids"
            in result.stderr)
