"""The composition root: every unit of Watchkeeper, by kind, in explicit lists of references
(no import strings: PyInstaller sees every import, and a reader sees the whole system here).

Adding a unit is its own file plus one line below: a check kind goes into CHECK_KINDS, a
scheduled module into MODULES, a unit's tables into MIGRATIONS, a service the engine starts into
SERVICES, a command group into CLI_GROUPS. Nothing below this module imports it: the entry
points (``python -m engine``, ``tray.main``) hand UNITS to the CLI, which hands it to the engine.
"""

from __future__ import annotations

from pathlib import Path

from peewee import SqliteDatabase

from engine import life
from engine.alerts import schema as alerts_schema
from engine.api.server import api_service
from engine.archive import schema as archive_schema
from engine.channels import telegram, toast
from engine.channels.base import ChannelSpec, Converse
from engine.chat import telegram as telegram_chat
from engine.checks.autostart_entries import AutostartEntriesCheck
from engine.checks.command import CommandCheck
from engine.checks.disk_space import DiskSpaceCheck
from engine.checks.endpoint import EndpointCheck
from engine.checks.goal_staleness import GoalStalenessCheck
from engine.checks.listening_ports import ListeningPortsCheck
from engine.checks.registry import CheckKinds
from engine.checks.session_crash import SessionCrashCheck
from engine.checks.sql import SqlCheck
from engine.checks.stale_applications import StaleApplicationsCheck
from engine.cli import api as api_commands
from engine.cli import archive as archive_commands
from engine.cli import checks as check_commands
from engine.cli import config as config_commands
from engine.cli import dashboard as dashboard_commands
from engine.cli import instance as instance_commands
from engine.cli import life as life_commands
from engine.cli import startup as startup_commands
from engine.cli import telegram as telegram_commands
from engine.cli import usage as usage_commands
from engine.compose import CliGroup, ServiceFactory, Units
from engine.deadman import deadman_service
from engine.delivery import outbox
from engine.modules.archive import ArchiveModule
from engine.modules.base import ScheduledModule
from engine.modules.session_watch import SessionWatchModule
from engine.modules.weekly import WeeklyModule
from engine.store import migrations
from engine.store.db import open_database
from engine.store.schema import CORE_MIGRATIONS

CHECK_KINDS = CheckKinds(
    # Always present as [checks.NAME] (maybe disabled), in this order.
    builtin=(
        StaleApplicationsCheck,
        SessionCrashCheck,
        GoalStalenessCheck,
        DiskSpaceCheck,
        EndpointCheck,
        ListeningPortsCheck,
        AutostartEntriesCheck,
    ),
    # What [[user_checks]] entries choose with kind = "...".
    user=(
        SqlCheck,
        CommandCheck,
    ),
)

# Scheduled modules (the heartbeat is the engine's own job, not a module).
MODULES: tuple[ScheduledModule, ...] = (
    WeeklyModule(),
    ArchiveModule(),
    SessionWatchModule(),
)

# Each unit's tables, applied in this order (core first).
MIGRATIONS: tuple[migrations.Migration, ...] = migrations.join(
    CORE_MIGRATIONS,
    alerts_schema.MIGRATIONS,
    outbox.MIGRATIONS,
    archive_schema.MIGRATIONS,
    life.MIGRATIONS,
)

# Services the engine starts after its jobs (each returns None when its config turns it off).
SERVICES: tuple[ServiceFactory, ...] = (
    api_service,
    deadman_service,
)

# Delivery channels, in delivery order.
CHANNELS: tuple[ChannelSpec, ...] = (
    toast.SPEC,
    telegram.SPEC,
)

# Chat front ends bound to two-way channels (by channel name): buttons and commands call the actions.
CONVERSATIONS: dict[str, Converse] = {
    "telegram": telegram_chat.converse,
}

# Command groups of the `watchkeeper` CLI, in the order `--help` lists them.
CLI_GROUPS: tuple[CliGroup, ...] = (
    instance_commands.register,
    config_commands.register,
    check_commands.register,
    life_commands.register,
    archive_commands.register,
    usage_commands.register,
    telegram_commands.register,
    api_commands.register,
    dashboard_commands.register,
    startup_commands.register,
)

UNITS = Units(check_kinds=CHECK_KINDS, modules=MODULES, migrations=MIGRATIONS, channels=CHANNELS,
              conversations=CONVERSATIONS, services=SERVICES,
              cli_groups=CLI_GROUPS)


def open_db(path: Path) -> SqliteDatabase:
    """The database at ``path`` with every registered migration applied (tests, benchmarks, tools)."""
    return open_database(path, MIGRATIONS)
