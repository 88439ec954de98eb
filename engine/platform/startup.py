"""Start at login: the one implementation behind `watchkeeper startup install|uninstall|status`,
the tray's "Start at login" item and the scripts in packaging/.

- Windows: a Task Scheduler task imported from XML (:func:`task_xml`): logon trigger and
  principal scoped to the current user (no administrator rights), runs on battery and is not
  stopped on battery, no execution time limit, restart on failure. If creating it is refused,
  the per-user Run key (``HKCU\\...\\CurrentVersion\\Run``) is used instead. Never both.
- Linux (and other XDG desktops): ``$XDG_CONFIG_HOME/autostart/watchkeeper.desktop``.
- macOS: ``~/Library/LaunchAgents/com.watchkeeper.agent.plist`` (RunAtLoad; effective at the
  next login).

What is started (:func:`launch_command`): the exe itself when frozen (``watchkeeper.exe run``);
from a source install ``<python dir>/pythonw.exe -m tray.main run`` on Windows (windowless; `run`
starts the tray when one can be shown, exactly what the ``watchkeeperw`` GUI script does) and
``<sys.executable> -m tray.main run`` elsewhere (``-m engine`` would be headless). On Linux and
``WATCHKEEPER_HOME`` set at install time is carried as ``--home DIR`` (a task or Run key on Windows has
no environment of its own, so an option works the same everywhere).

Everything OS-facing is injected (command runner, registry leaf, folders), so the Windows logic
runs and is tested on Linux; Windows modules are imported only inside engine.platform.windows.
"""

from __future__ import annotations

import os
import plistlib
import re
import subprocess
import sys
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol
from xml.sax.saxutils import escape

APP_NAME = "Watchkeeper"
TASK_PREFIX = "Watchkeeper"
RUN_KEY_PATH = r"Software\Microsoft\Windows\CurrentVersion\Run"
RUN_VALUE = "Watchkeeper"
DESKTOP_FILE = "watchkeeper.desktop"
LAUNCH_AGENT_LABEL = "com.watchkeeper.agent"

METHOD_TASK = "task-scheduler"
METHOD_RUN_KEY = "run-key"
METHOD_XDG = "xdg-autostart"
METHOD_LAUNCH_AGENT = "launch-agent"

TASK_XML_NS = "http://schemas.microsoft.com/windows/2004/02/mit/task"


@dataclass(frozen=True)
class StartupStatus:
    """What is registered to start Watchkeeper at login.

    ``method`` is one of the METHOD_* names or None; ``location`` the task name, registry value
    or file; ``command`` the registered command line; ``problems`` anything odd (e.g. a task and
    a Run key both present, which install() repairs).
    """

    registered: bool
    method: str | None
    location: str | None = None
    command: str | None = None
    problems: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class StartupResult:
    """The outcome of install()/uninstall(): ``method`` says which mechanism was used/removed."""

    ok: bool
    action: str
    method: str | None
    changed: bool
    message: str
    location: str | None = None
    command: str | None = None
    fallback_reason: str | None = None
    removed: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class Backend(Protocol):
    def status(self) -> StartupStatus: ...

    def install(self) -> StartupResult: ...

    def uninstall(self) -> StartupResult: ...


# -- what to start ---------------------------------------------------------------------------------


def launch_command(*, frozen: bool | None = None, executable: str | None = None,
                   platform: str | None = None, env: dict[str, str] | None = None) -> list[str]:
    """The argv started at login (see the module docstring).

    With ``WATCHKEEPER_HOME`` set (in ``env``, default the process's), the registered command carries
    it as an absolute path (``--home DIR`` before ``run``), so the instance started at login uses the
    same data folder."""
    frozen = bool(getattr(sys, "frozen", False)) if frozen is None else frozen
    executable = executable or sys.executable
    platform = platform or sys.platform
    env = dict(os.environ) if env is None else env
    home = env.get("WATCHKEEPER_HOME")
    run = ["--home", _absolute(home, platform), "run"] if home else ["run"]
    if frozen:
        return [executable, *run]
    if platform == "win32":
        folder, name = _win_split(executable)
        if name.lower() == "python.exe":
            pythonw = f"{folder}\\pythonw.exe" if folder else "pythonw.exe"
            # On Windows itself only switch when pythonw.exe is really there (it always is for
            # python.org installs and venvs); when building for Windows elsewhere (tests), trust it.
            if platform != sys.platform or os.path.exists(pythonw):
                executable = pythonw
    return [executable, "-m", "tray.main", *run]


def _absolute(home: str, platform: str) -> str:
    if platform == "win32" and sys.platform != "win32":  # building a Windows command elsewhere (tests)
        return home
    return os.path.abspath(os.path.expanduser(home))


def _win_split(path: str) -> tuple[str, str]:
    idx = max(path.rfind("\\"), path.rfind("/"))
    return (path[:idx], path[idx + 1:]) if idx >= 0 else ("", path)


def windows_command_line(argv: Sequence[str]) -> str:
    """argv as one Windows command line (the Run key value): the program always in double
    quotes, the arguments with the MSVCRT rules (subprocess.list2cmdline)."""
    line = f'"{argv[0]}"'
    rest = subprocess.list2cmdline(list(argv[1:]))
    return f"{line} {rest}" if rest else line


# -- Windows: Task Scheduler XML, schtasks, Run key ---------------------------------------------------


def task_name(user: str) -> str:
    """Per-user task name in the root folder (task names are machine-wide)."""
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", user.split("\\")[-1]).strip("_") or "user"
    return f"{TASK_PREFIX}-{safe}"


def task_xml(argv: Sequence[str], user_id: str, *, working_dir: str | None = None,
             description: str = "Start Watchkeeper (tray) at logon.") -> str:
    """The Task Scheduler 1.2 definition for `schtasks /Create /XML` (to be saved as UTF-16).

    Logon trigger and principal for ``user_id`` only (InteractiveToken, LeastPrivilege: no
    stored password, no elevation), battery-proof, no time limit, restart on failure. Note:
    RestartOnFailure covers failures to *start*; a crash after start is not restarted (MS-TSCH).
    """
    command, arguments = argv[0], subprocess.list2cmdline(list(argv[1:]))
    if working_dir is None:
        working_dir = _win_split(command)[0] or None
    e = escape
    exec_parts = [f"      <Command>{e(command)}</Command>"]
    if arguments:
        exec_parts.append(f"      <Arguments>{e(arguments)}</Arguments>")
    if working_dir:
        exec_parts.append(f"      <WorkingDirectory>{e(working_dir)}</WorkingDirectory>")
    exec_xml = "\n".join(exec_parts)
    return f"""<?xml version="1.0" encoding="UTF-16"?>
<Task version="1.2" xmlns="{TASK_XML_NS}">
  <RegistrationInfo>
    <Author>{e(user_id)}</Author>
    <Description>{e(description)}</Description>
  </RegistrationInfo>
  <Triggers>
    <LogonTrigger>
      <Enabled>true</Enabled>
      <UserId>{e(user_id)}</UserId>
      <Delay>PT30S</Delay>
    </LogonTrigger>
  </Triggers>
  <Principals>
    <Principal id="Author">
      <UserId>{e(user_id)}</UserId>
      <LogonType>InteractiveToken</LogonType>
      <RunLevel>LeastPrivilege</RunLevel>
    </Principal>
  </Principals>
  <Settings>
    <MultipleInstancesPolicy>IgnoreNew</MultipleInstancesPolicy>
    <DisallowStartIfOnBatteries>false</DisallowStartIfOnBatteries>
    <StopIfGoingOnBatteries>false</StopIfGoingOnBatteries>
    <AllowHardTerminate>true</AllowHardTerminate>
    <StartWhenAvailable>true</StartWhenAvailable>
    <RunOnlyIfNetworkAvailable>false</RunOnlyIfNetworkAvailable>
    <IdleSettings>
      <StopOnIdleEnd>false</StopOnIdleEnd>
      <RestartOnIdle>false</RestartOnIdle>
    </IdleSettings>
    <AllowStartOnDemand>true</AllowStartOnDemand>
    <Enabled>true</Enabled>
    <Hidden>false</Hidden>
    <RunOnlyIfIdle>false</RunOnlyIfIdle>
    <WakeToRun>false</WakeToRun>
    <ExecutionTimeLimit>PT0S</ExecutionTimeLimit>
    <Priority>5</Priority>
    <RestartOnFailure>
      <Interval>PT1M</Interval>
      <Count>3</Count>
    </RestartOnFailure>
  </Settings>
  <Actions Context="Author">
    <Exec>
{exec_xml}
    </Exec>
  </Actions>
</Task>
"""


def schtasks_create(name: str, xml_path: str) -> list[str]:
    return ["schtasks.exe", "/Create", "/TN", name, "/XML", xml_path, "/F"]


def schtasks_query(name: str) -> list[str]:
    return ["schtasks.exe", "/Query", "/TN", name, "/XML"]


def schtasks_delete(name: str) -> list[str]:
    return ["schtasks.exe", "/Delete", "/TN", name, "/F"]


@dataclass(frozen=True)
class CommandResult:
    returncode: int
    stdout: str = ""
    stderr: str = ""

    @property
    def text(self) -> str:
        return (self.stderr.strip() or self.stdout.strip()).replace("\r", "")


Runner = Callable[[list[str]], CommandResult]


class RunKey(Protocol):
    """The per-user Run registry value leaf (engine.platform.windows provides the real one)."""

    def get(self, name: str) -> str | None: ...

    def set(self, name: str, value: str) -> None: ...

    def delete(self, name: str) -> bool: ...


_REFUSED = re.compile(r"access is denied|0x80070005|E_ACCESSDENIED|privilege|elevat", re.IGNORECASE)


def is_refusal(result: CommandResult) -> bool:
    """Whether schtasks failed because the user may not create the task (no admin rights/policy)."""
    return result.returncode != 0 and bool(_REFUSED.search(result.stdout + "\n" + result.stderr))


def _xml_command(xml_text: str) -> str | None:
    """The registered command line from `schtasks /Query /XML` output."""
    cmd = re.search(r"<Command>(.*?)</Command>", xml_text, re.S)
    if not cmd:
        return None
    args = re.search(r"<Arguments>(.*?)</Arguments>", xml_text, re.S)
    from xml.sax.saxutils import unescape

    parts = [unescape(cmd.group(1).strip())]
    if args and args.group(1).strip():
        parts.append(unescape(args.group(1).strip()))
    return " ".join(parts)


class WindowsStartup:
    """Task Scheduler task with a Run-key fallback; the runner and registry leaf are injectable."""

    def __init__(self, *, runner: Runner | None = None, run_key: RunKey | None = None,
                 user_id: str | None = None, argv: Sequence[str] | None = None,
                 temp_dir: str | None = None) -> None:
        from engine.platform import windows

        self.runner: Runner = runner or (lambda args: CommandResult(*windows.run_hidden(args)))
        self.run_key: RunKey = run_key or windows.RunKeyLeaf(RUN_KEY_PATH)
        self.user_id = user_id or windows.current_user_id()
        self.argv = list(argv) if argv is not None else launch_command(platform="win32")
        self.temp_dir = temp_dir
        self.name = task_name(self.user_id)

    # status
    def _task(self) -> CommandResult:
        return self.runner(schtasks_query(self.name))

    def status(self) -> StartupStatus:
        task = self._task()
        run_value = self.run_key.get(RUN_VALUE)
        problems: list[str] = []
        if task.returncode == 0 and run_value is not None:
            problems.append("both a Task Scheduler task and a Run key are registered; "
                            "`watchkeeper startup install` keeps only the task")
        if task.returncode == 0:
            return StartupStatus(True, METHOD_TASK, self.name, _xml_command(task.stdout), problems)
        if run_value is not None:
            return StartupStatus(True, METHOD_RUN_KEY, f"HKCU\\{RUN_KEY_PATH}\\{RUN_VALUE}", run_value, problems)
        return StartupStatus(False, None, problems=problems)

    # install
    def install(self) -> StartupResult:
        command_line = windows_command_line(self.argv)
        xml = task_xml(self.argv, self.user_id)
        fd, xml_path = tempfile.mkstemp(prefix="watchkeeper-task-", suffix=".xml", dir=self.temp_dir)
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(xml.encode("utf-16"))  # with BOM, as the declaration says
            created = self.runner(schtasks_create(self.name, xml_path))
        finally:
            try:
                os.unlink(xml_path)
            except OSError:
                pass
        if created.returncode == 0:
            removed = [METHOD_RUN_KEY] if self.run_key.delete(RUN_VALUE) else []
            return StartupResult(True, "install", METHOD_TASK, True,
                                 f"registered Task Scheduler task {self.name!r}", self.name, command_line,
                                 removed=removed)
        reason = created.text or f"schtasks exited {created.returncode}"
        why = "refused" if is_refusal(created) else "failed"
        if self._task().returncode == 0:
            # An older task exists and could not be replaced (or removed below): keep it, no Run key.
            deleted = self.runner(schtasks_delete(self.name))
            if deleted.returncode != 0:
                self.run_key.delete(RUN_VALUE)
                return StartupResult(True, "install", METHOD_TASK, False,
                                     f"kept the existing task {self.name!r}: updating it was {why} ({reason})",
                                     self.name, None, fallback_reason=reason)
        self.run_key.set(RUN_VALUE, command_line)
        location = f"HKCU\\{RUN_KEY_PATH}\\{RUN_VALUE}"
        return StartupResult(True, "install", METHOD_RUN_KEY, True,
                             f"Task Scheduler {why} ({reason}); registered the per-user Run key instead",
                             location, command_line, fallback_reason=reason)

    # uninstall
    def uninstall(self) -> StartupResult:
        removed: list[str] = []
        problems: list[str] = []
        if self._task().returncode == 0:
            deleted = self.runner(schtasks_delete(self.name))
            if deleted.returncode == 0:
                removed.append(METHOD_TASK)
            else:
                problems.append(f"could not delete task {self.name!r}: {deleted.text}")
        if self.run_key.delete(RUN_VALUE):
            removed.append(METHOD_RUN_KEY)
        if problems:
            return StartupResult(False, "uninstall", METHOD_TASK, bool(removed), "; ".join(problems),
                                 self.name, removed=removed)
        message = "removed " + " and ".join(removed) if removed else "nothing was registered"
        return StartupResult(True, "uninstall", removed[0] if removed else None, bool(removed), message,
                             removed=removed)


# -- Linux / XDG -------------------------------------------------------------------------------------


_EXEC_RESERVED = set(' \t\n"\'\\><~|&;$*?#()`')


def desktop_exec(argv: Sequence[str]) -> str:
    """argv as a desktop entry ``Exec`` value (quoting per the Desktop Entry Specification)."""
    out = []
    for arg in argv:
        arg = arg.replace("%", "%%")
        if arg and not (set(arg) & _EXEC_RESERVED):
            out.append(arg)
            continue
        quoted = re.sub(r'(["`$\\])', r"\\\1", arg)
        out.append(f'"{quoted}"')
    # The value is itself a string value: backslashes are escaped once more.
    return " ".join(out).replace("\\", "\\\\")


def desktop_entry(argv: Sequence[str], *, icon: str | None = None) -> str:
    """The XDG autostart entry."""
    lines = [
        "[Desktop Entry]",
        "Type=Application",
        "Version=1.0",
        f"Name={APP_NAME}",
        "Comment=Proactive personal operations agent (tray)",
        f"Exec={desktop_exec(argv)}",
        "Terminal=false",
        "Hidden=false",
        "NoDisplay=false",
        "X-GNOME-Autostart-enabled=true",
        "X-GNOME-Autostart-Delay=10",
        "Categories=Utility;",
    ]
    if icon:
        lines.insert(6, f"Icon={icon}")
    return "\n".join(lines) + "\n"


def xdg_autostart_dir(env: dict[str, str] | None = None) -> Path:
    env = dict(os.environ) if env is None else env
    base = env.get("XDG_CONFIG_HOME") or os.path.join(env.get("HOME") or os.path.expanduser("~"), ".config")
    return Path(base) / "autostart"


def _atomic_write(path: Path, data: bytes) -> bool:
    """Write if different; returns whether the file changed."""
    if path.exists() and path.read_bytes() == data:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    return True


class FileStartup:
    """A single per-user file (XDG autostart entry or LaunchAgent plist)."""

    def __init__(self, method: str, path: Path, render: Callable[[], bytes],
                 read_command: Callable[[bytes], str | None]) -> None:
        self.method, self.path, self._render, self._read_command = method, path, render, read_command

    def status(self) -> StartupStatus:
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            return StartupStatus(False, None)
        problems: list[str] = []
        if self.method == METHOD_XDG and re.search(rb"^Hidden\s*=\s*true\s*$", data, re.M | re.I):
            return StartupStatus(False, None, str(self.path), self._read_command(data),
                                 ["the autostart entry exists but is disabled (Hidden=true)"])
        return StartupStatus(True, self.method, str(self.path), self._read_command(data), problems)

    def install(self) -> StartupResult:
        data = self._render()
        changed = _atomic_write(self.path, data)
        command = self._read_command(data)
        verb = "wrote" if changed else "already up to date:"
        return StartupResult(True, "install", self.method, changed, f"{verb} {self.path}", str(self.path), command)

    def uninstall(self) -> StartupResult:
        try:
            self.path.unlink()
        except FileNotFoundError:
            return StartupResult(True, "uninstall", None, False, "nothing was registered")
        return StartupResult(True, "uninstall", self.method, True, f"removed {self.path}", str(self.path),
                             removed=[self.method])


def _desktop_command(data: bytes) -> str | None:
    match = re.search(rb"^Exec=(.*)$", data, re.M)
    return match.group(1).decode("utf-8", "replace") if match else None


def linux_startup(*, argv: Sequence[str] | None = None, env: dict[str, str] | None = None,
                  icon: str | None = "auto") -> FileStartup:
    """The XDG autostart backend; ``icon="auto"`` picks the bundled icon, None writes none."""
    argv = list(argv) if argv is not None else launch_command()
    if icon == "auto":
        icon = _icon_path("png")
    path = xdg_autostart_dir(env) / DESKTOP_FILE
    return FileStartup(METHOD_XDG, path, lambda: desktop_entry(argv, icon=icon).encode("utf-8"), _desktop_command)


def launch_agent_plist(argv: Sequence[str]) -> bytes:
    """The LaunchAgent: RunAtLoad only (no KeepAlive: a second instance exits 3 by design)."""
    return plistlib.dumps({
        "Label": LAUNCH_AGENT_LABEL,
        "ProgramArguments": list(argv),
        "RunAtLoad": True,
        "ProcessType": "Interactive",
        "LimitLoadToSessionType": "Aqua",
    })


def _plist_command(data: bytes) -> str | None:
    try:
        return " ".join(plistlib.loads(data).get("ProgramArguments", [])) or None
    except Exception:  # noqa: BLE001 - a hand-edited plist is reported, not fatal
        return None


def mac_startup(*, argv: Sequence[str] | None = None, home: Path | None = None) -> FileStartup:
    argv = list(argv) if argv is not None else launch_command()
    home = home or Path.home()
    path = home / "Library" / "LaunchAgents" / f"{LAUNCH_AGENT_LABEL}.plist"
    return FileStartup(METHOD_LAUNCH_AGENT, path, lambda: launch_agent_plist(argv), _plist_command)


def _icon_path(ext: str) -> str | None:
    """A stable icon file for the autostart entry: none when frozen (the one-file bundle lives in
    a temporary _MEI folder that disappears on exit)."""
    if getattr(sys, "frozen", False):
        return None
    try:
        from engine.assets import assets_dir

        folder = assets_dir()
        for name in (f"watchkeeper.{ext}", f"watchkeeper-ok.{ext}"):
            if (folder / name).is_file():
                return str(folder / name)
    except Exception:  # noqa: BLE001 - the icon is cosmetic
        return None
    return None


# -- the public API ----------------------------------------------------------------------------------


def default_backend(platform: str | None = None) -> Backend:
    platform = platform or sys.platform
    if platform == "win32":
        return WindowsStartup()
    if platform == "darwin":
        return mac_startup()
    return linux_startup()


def status(backend: Backend | None = None) -> StartupStatus:
    """What is registered to start Watchkeeper at login (``.registered``, ``.method``)."""
    return (backend or default_backend()).status()


def install(backend: Backend | None = None) -> StartupResult:
    """Register start at login; idempotent (one registration, updated in place)."""
    return (backend or default_backend()).install()


def uninstall(backend: Backend | None = None) -> StartupResult:
    """Remove every start-at-login registration of Watchkeeper for this user."""
    return (backend or default_backend()).uninstall()
