"""`watchkeeper doctor`: check permissions, lock, database, scheduler and config; say what is wrong plainly."""

from __future__ import annotations

import shlex
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine.cli.context import CliContext
from engine.compose import load_config
from engine.config import ConfigError
from engine.paths import Paths
from engine.platform.processes import pid_alive
from engine.privatefile import IS_POSIX, others_can_access
from engine.process.control import ControlError
from engine.process.lifecycle import find_orphans, read_pid_file, running_instance


@dataclass
class Finding:
    area: str
    ok: bool
    message: str


def diagnose(ctx: CliContext) -> list[Finding]:
    """Every check, in order; none raises."""
    # permissions first: opening the database (Paths.ensure) tightens the folders it finds loose
    return [*_permissions(ctx.paths), *_config(ctx), *_lock(ctx), *_database(ctx), *_scheduler(ctx),
            *_channels(ctx), *_deadman(ctx), *_presence(ctx), *_api(ctx), *_startup()]


def private_paths(paths: Paths) -> list[Path]:
    """Watchkeeper's folders and the files in them that hold secrets or the user's data (those that exist)."""
    from engine.api.tokens import token_file

    files = [paths.config_file, paths.db_file, paths.db_file.with_name(paths.db_file.name + "-wal"),
             paths.db_file.with_name(paths.db_file.name + "-shm"), paths.control_file,
             token_file(paths), token_file(paths, read_only=True), token_file(paths, scrape=True), paths.log_file,
             *sorted(paths.log_dir.glob(paths.log_file.name + ".*")), paths.backup_dir,
             *sorted(paths.backup_dir.glob("*"))]
    return [p for p in (*paths.folders, *files) if p.exists()]


def _permissions(paths: Paths) -> list[Finding]:
    if not IS_POSIX:
        return [Finding("permissions", True, "kept private by the per-user profile folders (Windows ACL)")]
    out = []
    for path in private_paths(paths):
        try:
            loose = others_can_access(path)
            mode = stat.S_IMODE(path.stat().st_mode)
        except OSError as exc:
            out.append(Finding("permissions", False, f"cannot inspect {path}: {exc}"))
            continue
        if loose:
            fix = f"chmod {'700' if path.is_dir() else '600'} {shlex.quote(str(path))}"
            out.append(Finding("permissions", False, f"{path} is {mode:04o}: other users can reach it. "
                                                     f"Fix: {fix}"))
    return out or [Finding("permissions", True, "folders 0700 and files 0600: private to you")]


def _channels(ctx: CliContext) -> list[Finding]:
    from engine.actions.delivery import channels
    from engine.delivery.outbox import DELIVERING, state_text
    from engine.health import NO_CHANNEL_CAN_DELIVER

    specs = {spec.name: spec for spec in ctx.units.channels}
    try:
        reply = ctx.send("status")  # a running instance knows best what its channels can do
        states = (reply["snapshot"]["channels"] if reply is not None
                  else [c.to_dict() for c in channels(ctx.offline())])
    except Exception as exc:
        return [Finding("channels", False, f"cannot read the channels' state: {exc}")]
    out = []
    if not any(c["state"] in DELIVERING for c in states):
        out.append(Finding("delivery", False, f"{NO_CHANNEL_CAN_DELIVER}: nothing reaches you. Connect "
                                              "Telegram ('watchkeeper telegram setup') or run a notification service"))
    for c in [c for c in states if c["state"] != "disabled"]:
        if c["state"] == "broken":
            spec = specs.get(c["name"])
            fix = (f" (for {spec.title}: '{spec.setup_command}'), then '{spec.test_command}'"
                   if spec and spec.setup_command and spec.test_command else "")
            out.append(Finding(f"channel {c['name']}", False, f"broken: {c['last_error']}. Fix the cause{fix}."))
        elif c["state"] == "unavailable":
            out.append(Finding(f"channel {c['name']}", False, f"{state_text(c)}: it cannot deliver here; "
                               f"{c['pending']} pending wait for it. Start one, or set [{c['name']}] enabled = false"))
        elif c["state"] == "standby":
            out.append(Finding(f"channel {c['name']}", True, f"{state_text(c)}: it still sends alerts and tries "
                               "again every few minutes; give each machine its own bot to use commands on both, "
                               f"{c['pending']} pending, {c['failed']} failed"))
        elif c["state"] == "rate-limited":
            out.append(Finding(f"channel {c['name']}", True, f"{state_text(c)} (the server asked to wait; "
                               f"delivery resumes by itself), {c['pending']} pending, {c['failed']} failed"))
        else:
            out.append(Finding(f"channel {c['name']}", True, f"{c['pending']} pending, {c['failed']} failed"))
    for c in [c for c in states if c["state"] == "disabled"]:
        spec = specs.get(c["name"])
        hint = (f"not configured ('{spec.setup_command}' connects it)" if spec and spec.setup_command
                else f"turned off ([{c['name']}] enabled = false)")
        out.append(Finding(f"channel {c['name']}", True, f"disabled: {hint}"))
    return out


def _deadman(ctx: CliContext) -> list[Finding]:
    """The dead-man switch: a failing last ping is a problem (the outside monitor will page the owner)."""
    from engine.cli.status import deadman_result

    try:
        reply = ctx.send("status")
    except Exception as exc:
        return [Finding("dead-man switch", False, f"cannot read its state: {exc}")]
    deadman = reply["snapshot"].get("deadman") if reply is not None else None
    if deadman is None:
        try:
            configured = bool(load_config(ctx.paths.config_file, ctx.units).deadman.url)
        except ConfigError:
            return []  # the config finding says why
        if reply is not None and configured:
            return [Finding("dead-man switch", True, "configured; the running instance starts it after a restart")]
        return [Finding("dead-man switch", True, "configured: pings while Watchkeeper runs" if configured
                        else "off ([deadman] url is empty)")]
    last = deadman.get("last")
    detail = f"{deadman['style']} pings to {deadman['url']}: {deadman_result(deadman)}"
    if last is not None and not last["ok"]:
        return [Finding("dead-man switch", False, detail + ". Check the URL and the network; "
                        "the monitor reports Watchkeeper down while pings fail")]
    return [Finding("dead-man switch", True, detail)]


def _presence(ctx: CliContext) -> list[Finding]:
    """With ``[delivery] routing = "presence"``, an unknown presence is a problem: every alert goes to both."""
    from engine.cli.status import collect_status

    try:
        routing = load_config(ctx.paths.config_file, ctx.units).delivery.routing
    except ConfigError:
        return []  # the config finding says why
    if routing != "presence":
        return []
    try:
        data = collect_status(ctx)
    except Exception as exc:
        return [Finding("presence", False, f"cannot read it: {exc}")]
    if data.get("presence") == "unknown":
        return [Finding("presence", False, f"unknown: {data['presence_detail']['reason']}. With routing = presence "
                        "every alert goes to both channels (toast and Telegram) until a source answers")]
    detail = data.get("presence_detail") or {}
    return [Finding("presence", True, f"{data.get('presence')} ({detail.get('reason')}), from {detail.get('source')}")]


def _api(ctx: CliContext) -> list[Finding]:
    """Only for a LAN bind: where the API listens, and that its token crosses the network in plain HTTP."""
    from engine.config import is_loopback_bind

    try:
        api = load_config(ctx.paths.config_file, ctx.units).api
    except ConfigError:
        return []  # the config finding says why
    if not api.enabled or is_loopback_bind(api.bind):
        return []
    count = len(api.allow)
    return [Finding("api", True, f"listens on {api.bind}:{api.port} for {count} allowed "
                    f"network{'' if count == 1 else 's'}; the token travels in plain HTTP there, so across a "
                    "network you do not trust use a VPN (e.g. Tailscale) or an SSH tunnel")]


def _startup() -> list[Finding]:
    from engine.platform import startup

    try:
        state = startup.status()
    except Exception as exc:
        return [Finding("startup", False, f"cannot read the login registration: {exc}")]
    if state.registered:
        return [Finding("startup", True, f"starts at login ({state.method})")]
    return [Finding("startup", True, "not registered to start at login ('watchkeeper startup install')")]


def _config(ctx: CliContext) -> list[Finding]:
    path = ctx.paths.config_file
    try:
        config = load_config(path, ctx.units)
    except ConfigError as exc:
        return [Finding("config", False, f"{exc}. Fix the file, then run 'watchkeeper config validate'.")]
    out = [Finding("config", True, f"{path if path.exists() else 'defaults (no file yet)'} is valid")]
    out += [Finding("config", False, w) for w in config.warnings]
    return out


def _lock(ctx: CliContext) -> list[Finding]:
    out = []
    info = running_instance(ctx.paths)
    pid_file = read_pid_file(ctx.paths.pid_file)
    if info is not None:
        out.append(Finding("lock", True, f"held by the running instance, PID {info.pid}"))
    elif pid_file is not None and pid_alive(pid_file):
        out.append(Finding("lock", False, f"PID file names live PID {pid_file.pid} but no one holds the lock"))
    elif pid_file is not None:
        out.append(Finding("lock", True, f"not running; a stale PID file from PID {pid_file.pid} "
                                         "remains (harmless, replaced at the next start)"))
    else:
        out.append(Finding("lock", True, "not running"))
    orphans = find_orphans(ctx.paths)
    if orphans:
        pids = ", ".join(str(o.pid) for o in orphans)
        out.append(Finding("processes", False, f"orphan watchkeeper processes for this data folder: {pids}. "
                                               "End them with 'watchkeeper run --kill-orphans'."))
    return out


def _database(ctx: CliContext) -> list[Finding]:
    try:
        db = ctx.open_db()
        result = db.execute_sql("PRAGMA quick_check").fetchone()[0]
        mode = db.execute_sql("PRAGMA journal_mode").fetchone()[0]
    except Exception as exc:
        return [Finding("database", False, f"{ctx.paths.db_file} cannot be opened: {exc}")]
    if result != "ok":
        return [Finding("database", False, f"{ctx.paths.db_file} is damaged ({result}); "
                                           "restore the newest file from the backups folder")]
    return [Finding("database", True, f"{ctx.paths.db_file} ok (journal {mode})"), _disk(ctx, db)]


def _disk(ctx: CliContext, db: Any) -> Finding:
    """Free space of the data folder, and an archive run a full disk stopped."""
    import shutil

    from engine.archive.runs import disk_full_problem

    problem = disk_full_problem(db)
    if problem:
        return Finding("disk", False, problem)
    try:
        free = f"{shutil.disk_usage(ctx.paths.data_dir).free / 1e6:.1f} MB free"
    except OSError as exc:
        free = f"free space unknown ({exc})"
    return Finding("disk", True, f"{free} at {ctx.paths.data_dir}")


def _scheduler(ctx: CliContext) -> list[Finding]:
    try:
        reply = ctx.send("status")
    except ControlError as exc:
        return [Finding("scheduler", False, f"the running instance does not answer: {exc}")]
    if reply is None:
        try:
            db = ctx.open_db()
        except Exception:
            return []  # the database finding already says what is wrong
        rows = db.execute_sql(
            "SELECT job, error FROM job_runs WHERE id IN (SELECT max(id) FROM job_runs GROUP BY job)"
            " AND outcome = 'error'"
        ).fetchall()
        if rows:
            return [Finding("scheduler", False, f"last run of {job} failed: {err}") for job, err in rows]
        return [Finding("scheduler", True, "not running; no job failed on its last run")]
    snap = reply["snapshot"]
    failing = [j for j in snap["jobs"] if j["last_outcome"] == "error"]
    out = [Finding("scheduler", False, f"job {j['name']} failed: {j['last_error']}") for j in failing]
    if snap["state"] == "degraded":  # every reason the instance is DEGRADED is a problem here too
        shown = {f"job {j['name']} failing" for j in failing}
        out += [Finding("health", False, reason) for reason in snap["reasons"] if reason not in shown]
    return out or [Finding("scheduler", True, f"{len(snap['jobs'])} jobs scheduled; health {snap['summary']}")]
