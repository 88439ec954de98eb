"""Nightly conversation-archive job: archive every Claude Code / Codex transcript.

A run stopped by a full disk fails the job with ``DiskFull`` (``disk full: N MB free at
FOLDER``): the scheduler records it once, without a traceback, and health is DEGRADED until a
later run finishes; that run continues where this one stopped."""

from __future__ import annotations

import logging
from typing import Any

from engine.archive import service
from engine.config import Config
from engine.modules.base import ModuleContext
from engine.store.db import disk_full_error

log = logging.getLogger(__name__)


def archive_job(db: Any, config: Any) -> None:
    """Run the archive with settings from ``config.archive`` (defaults when missing)."""
    cfg = getattr(config, "archive", None)
    extra = list(getattr(cfg, "extra_roots", []) or [])
    max_line = int(getattr(cfg, "max_line_bytes", service.DEFAULT_MAX_LINE_BYTES)
                   or service.DEFAULT_MAX_LINE_BYTES)
    res = service.run_archive(db, None, extra_roots=extra, max_line_bytes=max_line,
                              trigger="nightly")
    if res.disk_full:
        raise disk_full_error(db.database)
    log.info("archive run %s: %s files parsed, %s unchanged, %s failed, %s new sessions",
             res.run_id, res.files_parsed, res.files_skipped, res.files_failed, res.sessions_new)


class ArchiveModule:
    """The nightly archive as a ScheduledModule (engine.modules.base); off with [archive] enabled = false."""

    name = "archive"
    description = "conversation archive"

    def schedule(self, config: Config) -> str | None:
        return config.archive.schedule if config.archive.enabled else None

    def run(self, context: ModuleContext) -> None:
        archive_job(context.db, context.config)
