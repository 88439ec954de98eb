"""autostart_entries: a program is newly registered to start at login.

The first run records the login-startup entries as the baseline (runtime state "baseline", a
JSON list of entry ids) and finds nothing; later runs report each entry that is neither in the
baseline nor in ``allowed``; an entry that goes away resolves its alert. Entries, by id prefix:

- Windows: ``hkcu-run:``/``hkcu-runonce:``/``hklm-run:``/``hklm-runonce:`` (``…32:`` for the
  32-bit view of HKLM) values of ``Software\\Microsoft\\Windows\\CurrentVersion\\Run`` and
  ``RunOnce``; ``startup:``/``common-startup:`` files of the per-user and all-users Startup
  folders (a shortcut shows its target); ``task:`` scheduled tasks with an enabled logon trigger
  (``schtasks /Query /XML``).
- Linux: ``xdg:`` autostart .desktop files of ``$XDG_CONFIG_HOME/autostart`` and of each
  ``$XDG_CONFIG_DIRS`` (default /etc/xdg); a user file overrides a system file of the same name,
  and ``Hidden=true`` or ``X-GNOME-Autostart-enabled=false`` disables it. ``systemd-user:`` units
  linked into a ``*.wants``/``*.requires`` folder of ``$XDG_CONFIG_HOME/systemd/user`` or
  /etc/systemd/user. ``crontab:`` ``@reboot`` lines of the user's crontab (none is none).
- macOS: ``launch-agent:`` plists of ~/Library/LaunchAgents and /Library/LaunchAgents that run
  at load (RunAtLoad or KeepAlive) and are not Disabled.

``include_system = false`` leaves out the machine-wide locations (HKLM, the all-users Startup
folder, tasks under ``\\Microsoft\\``, ``$XDG_CONFIG_DIRS``, /etc/systemd/user,
/Library/LaunchAgents); reset the baseline after changing it. Watchkeeper's own start-at-login
registration is never reported. The pure parsers take text; the readers take their OS leaves
(registry, command runner, environment, folders) as arguments, so every platform's logic runs
and is tested here.
"""

from __future__ import annotations

import json
import logging
import os
import plistlib
import re
import struct
import sys
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine.checks.base import CheckContext, CheckError, CheckKind, Param
from engine.findings import Finding
from engine.platform.startup import DESKTOP_FILE, LAUNCH_AGENT_LABEL, RUN_VALUE, task_name
from engine.vocabulary import Severity

BASELINE_KEY = "baseline"
MAX_FILE_BYTES = 1 << 20  # a startup file larger than this is read only this far
MAX_COMMAND_SHOWN = 200
RUN_KEY = r"Software\Microsoft\Windows\CurrentVersion\Run"
RUN_ONCE_KEY = r"Software\Microsoft\Windows\CurrentVersion\RunOnce"
SYSTEMD_SYSTEM_DIRS = ("/etc/systemd/user",)
LAUNCH_AGENT_SYSTEM_DIRS = ("/Library/LaunchAgents",)
log = logging.getLogger("watchkeeper")


@dataclass(frozen=True)
class StartupEntry:
    """One thing started at login: ``id`` is its stable identity (the baseline entry and alert
    subject), ``name`` what a person calls it, ``command`` what it runs, ``system`` whether it
    lives in a machine-wide location."""

    id: str
    name: str
    command: str
    system: bool = False


Runner = Callable[[list[str]], tuple[int, str, str]]
RegistryReader = Callable[[str, str, int], list[tuple[str, str]]]
Lister = Callable[[bool], list[StartupEntry]]


def _ids(value: Any) -> str | None:
    ok = all(isinstance(v, str) and ":" in v and v.strip() == v and v for v in value)
    return None if ok else 'a list of entry ids such as "xdg:~/.config/autostart/foo.desktop" or "hkcu-run:OneDrive"'


def _read(path: Path) -> bytes:
    with path.open("rb") as fh:
        return fh.read(MAX_FILE_BYTES)


def _shown(path: Path, home: str) -> str:
    """``path`` with the home folder written as ~ (ids stay the same whatever HOME is called)."""
    text = str(path)
    if home and (text == home or text.startswith(home.rstrip("/\\") + os.sep)):
        return "~" + text[len(home.rstrip("/\\")):]
    return text


def _files(folder: Path, pattern: str = "*") -> list[Path]:
    try:
        return sorted(p for p in folder.glob(pattern) if p.is_file() or p.is_symlink())
    except OSError:
        return []


# -- Linux: XDG autostart ---------------------------------------------------------------------------


def desktop_fields(text: str) -> dict[str, str]:
    """The keys of the ``[Desktop Entry]`` group of a .desktop file (localised keys dropped)."""
    fields: dict[str, str] = {}
    group = None
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("[") and line.endswith("]"):
            group = line[1:-1]
            continue
        if group == "Desktop Entry" and "=" in line:
            key, value = line.split("=", 1)
            key = key.strip()
            if "[" not in key:
                fields.setdefault(key, value.strip())
    return fields


def desktop_enabled(fields: Mapping[str, str]) -> bool:
    """Whether an autostart entry runs: not ``Hidden=true``, not ``X-GNOME-Autostart-enabled=false``."""
    return (fields.get("Hidden", "").lower() != "true"
            and fields.get("X-GNOME-Autostart-enabled", "").lower() != "false")


def xdg_autostart_dirs(env: Mapping[str, str], include_system: bool) -> list[tuple[Path, bool]]:
    """(folder, is_system) in precedence order: the user's, then each of $XDG_CONFIG_DIRS."""
    home = env.get("HOME") or os.path.expanduser("~")
    user = Path(env.get("XDG_CONFIG_HOME") or os.path.join(home, ".config")) / "autostart"
    dirs = [(user, False)]
    if include_system:
        system = [d for d in (env.get("XDG_CONFIG_DIRS") or "/etc/xdg").split(":") if d]
        dirs += [(Path(d) / "autostart", True) for d in system]
    return dirs


def xdg_entries(env: Mapping[str, str], include_system: bool) -> list[StartupEntry]:
    """The enabled XDG autostart entries, Watchkeeper's own left out."""
    home = env.get("HOME") or os.path.expanduser("~")
    dirs = xdg_autostart_dirs(env, include_system)
    own = dirs[0][0] / DESKTOP_FILE
    seen: set[str] = set()
    entries = []
    for folder, system in dirs:
        for path in _files(folder, "*.desktop"):
            if path.name in seen:
                continue  # overridden by an earlier folder's file of the same name
            seen.add(path.name)
            if path == own:
                continue
            try:
                fields = desktop_fields(_read(path).decode("utf-8", "replace"))
            except OSError as exc:
                fields = {"Exec": f"(unreadable: {exc.strerror or exc})"}
            if desktop_enabled(fields):
                entries.append(StartupEntry(f"xdg:{_shown(path, home)}", fields.get("Name") or path.stem,
                                            fields.get("Exec", ""), system))
    return entries


# -- Linux: systemd user units ----------------------------------------------------------------------


def unit_exec_start(text: str) -> str:
    """The ``ExecStart=`` command line(s) of a unit's [Service] section, prefixes (-@:+!) removed;
    an empty assignment resets the list as systemd does."""
    commands: list[str] = []
    section = None
    for raw in text.splitlines():
        line = raw.strip()
        if line.startswith("[") and line.endswith("]"):
            section = line[1:-1]
        elif section == "Service" and line.startswith("ExecStart") and "=" in line:
            key, value = line.split("=", 1)
            if key.strip() != "ExecStart":
                continue
            value = value.strip().lstrip("-@:+!")
            commands = commands + [value] if value else []
    return "; ".join(commands)


def systemd_user_entries(env: Mapping[str, str], include_system: bool,
                         system_dirs: Iterable[str] = SYSTEMD_SYSTEM_DIRS) -> list[StartupEntry]:
    """Units linked into a ``*.wants`` or ``*.requires`` folder of the user's systemd config
    (``systemctl --user enable``) and, with ``include_system``, of ``system_dirs``."""
    home = env.get("HOME") or os.path.expanduser("~")
    user = Path(env.get("XDG_CONFIG_HOME") or os.path.join(home, ".config")) / "systemd" / "user"
    roots = [(user, False)] + ([(Path(d), True) for d in system_dirs] if include_system else [])
    entries = []
    for root, system in roots:
        try:
            wants = sorted(p for p in root.iterdir() if p.suffix in (".wants", ".requires") and p.is_dir())
        except OSError:
            continue
        for folder in wants:
            for link in _files(folder):
                entries.append(StartupEntry(f"systemd-user:{_shown(link, home)}", link.name,
                                            _unit_command(link), system))
    return entries


def _unit_command(link: Path) -> str:
    try:
        text = _read(link).decode("utf-8", "replace")
    except OSError:
        target = os.readlink(link) if link.is_symlink() else str(link)
        return f"(missing unit {target})"
    return unit_exec_start(text) or f"(unit {os.path.realpath(link)})"


# -- Linux: user crontab ----------------------------------------------------------------------------


def reboot_commands(crontab: str) -> list[str]:
    """The commands of the ``@reboot`` lines of a crontab, in order, each once."""
    commands: list[str] = []
    for raw in crontab.splitlines():
        parts = raw.strip().split(None, 1)
        if len(parts) == 2 and parts[0].lower() == "@reboot" and parts[1] not in commands:
            commands.append(parts[1])
    return commands


def _posix_runner(args: list[str]) -> tuple[int, str, str]:
    from engine.platform import posix

    return posix.run_hidden(args, timeout=10.0, env={**os.environ, "LC_ALL": "C"})


def crontab_entries(run: Runner = _posix_runner) -> list[StartupEntry]:
    """``@reboot`` lines of ``crontab -l``; none when crontab is not installed or the user has
    no crontab; CheckError when it fails otherwise."""
    code, out, err = run(["crontab", "-l"])
    if code == 127 or (code != 0 and "no crontab" in (err + out).lower()):
        return []
    if code != 0:
        raise CheckError(f"cannot read the user crontab: `crontab -l` exited {code}: {(err or out).strip()[:200]}")
    return [StartupEntry(f"crontab:{command}", "crontab @reboot", command) for command in reboot_commands(out)]


def linux_entries(include_system: bool, *, env: Mapping[str, str] | None = None, run: Runner = _posix_runner,
                  systemd_system_dirs: Iterable[str] = SYSTEMD_SYSTEM_DIRS) -> list[StartupEntry]:
    """XDG autostart, systemd user units and @reboot crontab lines."""
    env = os.environ if env is None else env
    return (xdg_entries(env, include_system) + systemd_user_entries(env, include_system, systemd_system_dirs)
            + crontab_entries(run))


# -- macOS: LaunchAgents ----------------------------------------------------------------------------


def launch_agent(data: bytes) -> tuple[str, str] | None:
    """(Label, command) of a LaunchAgent plist that runs at load and is not Disabled; None for
    one that does not, or that launchd could not read either."""
    try:
        plist = plistlib.loads(data)
    except Exception:  # noqa: BLE001 - plistlib raises several types for a broken file; launchd skips it too
        return None
    if not isinstance(plist, dict) or plist.get("Disabled") is True:
        return None
    if plist.get("RunAtLoad") is not True and not plist.get("KeepAlive"):
        return None
    args = plist.get("ProgramArguments")
    command = " ".join(str(a) for a in args) if isinstance(args, list) and args else str(plist.get("Program", ""))
    return str(plist.get("Label", "")), command


def mac_entries(include_system: bool, *, home: str | None = None,
                system_dirs: Iterable[str] = LAUNCH_AGENT_SYSTEM_DIRS) -> list[StartupEntry]:
    """LaunchAgents of the user and, with ``include_system``, of ``system_dirs``."""
    home = home or os.path.expanduser("~")
    user = Path(home) / "Library" / "LaunchAgents"
    own = user / f"{LAUNCH_AGENT_LABEL}.plist"
    folders = [(user, False)] + ([(Path(d), True) for d in system_dirs] if include_system else [])
    entries = []
    for folder, system in folders:
        for path in _files(folder, "*.plist"):
            if path == own:
                continue
            try:
                agent = launch_agent(_read(path))
            except OSError as exc:
                agent = (path.stem, f"(unreadable: {exc.strerror or exc})")
            if agent is not None:
                entries.append(StartupEntry(f"launch-agent:{_shown(path, home)}", agent[0] or path.stem,
                                            agent[1], system))
    return entries


# -- Windows: Run keys, Startup folders, logon tasks ------------------------------------------------

_RUN_SOURCES = (  # (id prefix, hive, key, registry view, machine-wide)
    ("hkcu-run", "HKCU", RUN_KEY, 0, False),
    ("hkcu-runonce", "HKCU", RUN_ONCE_KEY, 0, False),
    ("hklm-run", "HKLM", RUN_KEY, 64, True),
    ("hklm-runonce", "HKLM", RUN_ONCE_KEY, 64, True),
    ("hklm-run32", "HKLM", RUN_KEY, 32, True),
    ("hklm-runonce32", "HKLM", RUN_ONCE_KEY, 32, True),
)


def run_key_entries(read: RegistryReader, include_system: bool) -> list[StartupEntry]:
    """The Run and RunOnce values of HKCU (and HKLM, both views, with ``include_system``)."""
    entries = []
    for prefix, hive, key, view, system in _RUN_SOURCES:
        if system and not include_system:
            continue
        for name, value in read(hive, key, view):
            if prefix == "hkcu-run" and name == RUN_VALUE:
                continue  # Watchkeeper's own fallback registration
            entries.append(StartupEntry(f"{prefix}:{name}", name or "(default)", value, system))
    return entries


def startup_folders(env: Mapping[str, str]) -> list[tuple[str, Path, bool]]:
    """(id prefix, folder, machine-wide) of the per-user and all-users Startup folders."""
    tail = ("Microsoft", "Windows", "Start Menu", "Programs", "Startup")
    found = []
    for prefix, var, system in (("startup", "APPDATA", False), ("common-startup", "PROGRAMDATA", True)):
        if env.get(var):
            found.append((prefix, Path(env[var]).joinpath(*tail), system))
    return found


def startup_folder_entries(env: Mapping[str, str], include_system: bool) -> list[StartupEntry]:
    """The files of the Startup folders (desktop.ini aside); a shortcut shows its target."""
    entries = []
    for prefix, folder, system in startup_folders(env):
        if system and not include_system:
            continue
        for path in _files(folder):
            if path.name.lower() == "desktop.ini":
                continue
            command = str(path)
            if path.suffix.lower() == ".lnk":
                try:
                    command = shortcut_command(_read(path)) or command
                except OSError:
                    pass
            entries.append(StartupEntry(f"{prefix}:{path.name}", path.stem, command, system))
    return entries


_LNK_HEADER = 0x4C
_LNK_CLSID = bytes.fromhex("0114020000000000c000000000000046")


def shortcut_command(data: bytes) -> str | None:
    """Target and arguments of a Shell Link (.lnk, MS-SHLLINK) file; None when it is not one."""
    try:
        return _parse_shortcut(data)
    except (struct.error, IndexError, UnicodeDecodeError):
        return None


def _parse_shortcut(data: bytes) -> str | None:
    if len(data) < _LNK_HEADER or struct.unpack_from("<I", data, 0)[0] != _LNK_HEADER or data[4:20] != _LNK_CLSID:
        return None
    flags = struct.unpack_from("<I", data, 20)[0]
    unicode = bool(flags & 0x80)
    pos = _LNK_HEADER
    if flags & 0x01:  # HasLinkTargetIDList
        pos += 2 + struct.unpack_from("<H", data, pos)[0]
    target = ""
    if flags & 0x02:  # HasLinkInfo
        size, header, info_flags, _vol, base, _net, suffix = struct.unpack_from("<7I", data, pos)
        if info_flags & 0x01:  # VolumeIDAndLocalBasePath
            if header >= 0x24:
                base_u, suffix_u = struct.unpack_from("<2I", data, pos + 28)
                target = _wide_z(data, pos + base_u) + _wide_z(data, pos + suffix_u)
            else:
                target = _ansi_z(data, pos + base) + _ansi_z(data, pos + suffix)
        pos += size
    strings: dict[int, str] = {}
    for bit in (0x04, 0x08, 0x10, 0x20, 0x40):  # name, relative path, working dir, arguments, icon
        if flags & bit:
            count = struct.unpack_from("<H", data, pos)[0]
            width = 2 if unicode else 1
            raw = data[pos + 2:pos + 2 + count * width]
            if len(raw) != count * width:
                raise IndexError("string data cut short")
            strings[bit] = raw.decode("utf-16-le" if unicode else "mbcs" if sys.platform == "win32" else "latin-1")
            pos += 2 + count * width
    target = target or strings.get(0x08, "")
    if not target:
        return None
    arguments = strings.get(0x20, "")
    return f"{target} {arguments}" if arguments else target


def _ansi_z(data: bytes, start: int) -> str:
    end = data.index(b"\0", start)
    return data[start:end].decode("mbcs" if sys.platform == "win32" else "latin-1")


def _wide_z(data: bytes, start: int) -> str:
    end = start
    while data[end:end + 2] != b"\0\0":
        end += 2
    return data[start:end].decode("utf-16-le")


@dataclass(frozen=True)
class LogonTask:
    """A scheduled task that starts at logon: its path (``\\Folder\\Name``) and command."""

    path: str
    command: str


_TASK_BLOCK = re.compile(r"<!--\s*(\\.*?)\s*-->\s*(<Task\b.*?</Task>)", re.S)


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _children(element: ET.Element, name: str) -> list[ET.Element]:
    return [child for child in element if _local(child.tag) == name]


def _enabled(element: ET.Element) -> bool:
    flag = _children(element, "Enabled")
    return not flag or (flag[0].text or "").strip().lower() != "false"


def logon_tasks(xml_text: str) -> list[LogonTask]:
    """The enabled tasks with an enabled logon trigger in ``schtasks /Query /XML`` output (each
    task's XML preceded by a ``<!-- \\Path -->`` comment); a block that does not parse is skipped."""
    found = []
    for path, block in _TASK_BLOCK.findall(xml_text):
        try:
            task = ET.fromstring(block)
        except ET.ParseError:
            log.warning("autostart_entries: skipped scheduled task %s: its XML does not parse", path)
            continue
        settings = _children(task, "Settings")
        if settings and not _enabled(settings[0]):
            continue
        triggers = [t for group in _children(task, "Triggers") for t in _children(group, "LogonTrigger")]
        if not any(_enabled(t) for t in triggers):
            continue
        commands = []
        for actions in _children(task, "Actions"):
            for action in actions:
                fields = {_local(c.tag): (c.text or "").strip() for c in action}
                if _local(action.tag) == "Exec":
                    commands.append(" ".join(v for v in (fields.get("Command"), fields.get("Arguments")) if v))
                elif _local(action.tag) == "ComHandler":
                    commands.append(f"COM handler {fields.get('ClassId', '')}".strip())
        found.append(LogonTask(path, "; ".join(commands)))
    return found


def task_entries(run: Runner, include_system: bool, own_task: str) -> list[StartupEntry]:
    """Logon tasks from ``schtasks /Query /XML`` (those under \\Microsoft\\ are machine-wide);
    ``own_task`` (Watchkeeper's) left out; CheckError when schtasks fails."""
    code, out, err = run(["schtasks.exe", "/Query", "/XML"])
    if code != 0:
        raise CheckError(f"cannot list scheduled tasks: schtasks exited {code}: {(err or out).strip()[:200]}")
    entries = []
    for task in logon_tasks(out):
        system = task.path.lower().startswith("\\microsoft\\")
        if task.path.lower() == own_task.lower() or (system and not include_system):
            continue
        entries.append(StartupEntry(f"task:{task.path}", task.path.rsplit("\\", 1)[-1], task.command, system))
    return entries


def windows_entries(include_system: bool, *, read: RegistryReader | None = None, run: Runner | None = None,
                    env: Mapping[str, str] | None = None, user_id: str | None = None) -> list[StartupEntry]:
    """Run keys, Startup folders and logon tasks; the OS leaves default to engine.platform.windows."""
    from engine.platform import windows

    env = os.environ if env is None else env
    own_task = "\\" + task_name(user_id or windows.current_user_id(dict(env)))
    return (run_key_entries(read or windows.registry_values, include_system)
            + startup_folder_entries(env, include_system)
            + task_entries(run or (lambda args: windows.run_hidden(args, timeout=30.0)), include_system, own_task))


def system_entries(include_system: bool) -> list[StartupEntry]:
    """This machine's login-startup entries (the reader for the running platform)."""
    if sys.platform == "win32":
        return windows_entries(include_system)
    if sys.platform == "darwin":
        return mac_entries(include_system)
    return linux_entries(include_system)


# -- the check --------------------------------------------------------------------------------------


def new_entries(current: Iterable[StartupEntry], baseline: Iterable[str], allowed: Iterable[str]
                ) -> list[StartupEntry]:
    """Entries whose id is neither in ``baseline`` nor ``allowed``; one per id, sorted by id."""
    known = set(baseline) | set(allowed)
    chosen: dict[str, StartupEntry] = {}
    for entry in current:
        if entry.id not in known:
            chosen.setdefault(entry.id, entry)
    return [chosen[key] for key in sorted(chosen)]


def baseline_of(entries: Iterable[StartupEntry]) -> list[str]:
    """The baseline (entry ids, sorted, unique) for ``entries``."""
    return sorted({entry.id for entry in entries})


def reset_baseline(set_state: Callable[[str, str | None], None]) -> None:
    """Forget the baseline; the next run takes a new one (and reports nothing)."""
    set_state(BASELINE_KEY, None)


def _finding(entry: StartupEntry, severity: str) -> Finding:
    command = entry.command or "an unknown command"
    if len(command) > MAX_COMMAND_SHOWN:
        command = command[:MAX_COMMAND_SHOWN - 1] + "…"
    where = "machine-wide" if entry.system else "for this user"
    return Finding(entry.id, severity, f"New login startup entry: {entry.name} (runs {command})",
                   f"{entry.id} ({where}); not in the baseline nor in allowed")


def _parse_baseline(stored: str | None) -> list[str] | None:
    if not stored:
        return None
    try:
        value = json.loads(stored)
    except ValueError:
        log.warning("autostart_entries: stored baseline unreadable; taking a new one")
        return None
    return [str(v) for v in value] if isinstance(value, list) else None


class AutostartEntriesCheck(CheckKind):
    """New login-startup entries compared with a baseline taken on the first run."""

    kind = "autostart_entries"
    description = "A program is newly registered to start at login (not in the baseline)."
    schedule = "every 1h"
    cooldown = "24h"
    severity = Severity.WARNING
    baseline_noun = "startup entries"
    params = {
        "allowed": Param([], 'Entry ids that never count as new (besides the baseline), e.g. "hkcu-run:OneDrive".',
                         _ids),
        "include_system": Param(True, "Also watch the machine-wide locations (HKLM, all users' Startup folder, "
                                      "/etc/xdg/autostart, /Library/LaunchAgents)."),
    }

    def __init__(self, lister: Lister = system_entries) -> None:
        self._lister = lister

    def evaluate(self, ctx: CheckContext) -> list[Finding]:
        """Take the baseline on the first run; afterwards one finding per new entry."""
        current = self._lister(bool(ctx.params.get("include_system", True)))
        baseline = _parse_baseline(ctx.get_state(BASELINE_KEY))
        if baseline is None:
            ctx.set_state(BASELINE_KEY, json.dumps(baseline_of(current)))
            return []
        allowed = ctx.params.get("allowed") or []
        return [_finding(entry, self.severity) for entry in new_entries(current, baseline, allowed)]
