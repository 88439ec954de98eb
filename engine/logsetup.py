"""Logging: a rotating file in the log dir plus stderr, with secrets redacted from every record."""

from __future__ import annotations

import errno
import logging
import logging.handlers
import re
import sys
from collections.abc import Iterable
from pathlib import Path

from engine.paths import folder_error
from engine.privatefile import ensure_private_dir, ensure_private_file, tighten_private_file

_TOKEN_RE = re.compile(r"\b\d{5,}:[A-Za-z0-9_-]{20,}\b")


class RedactingFilter(logging.Filter):
    """Replace configured secrets and anything shaped like a bot token with '<redacted>'."""

    def __init__(self, secrets: Iterable[str] = ()):
        super().__init__()
        self.secrets = [s for s in secrets if s]

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact_text(message, self.secrets)
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact_text(record.exc_text, self.secrets)
        if cleaned != message:
            record.msg, record.args = cleaned, ()
        return True


def redact_text(text: str, secrets: Iterable[str] = ()) -> str:
    """``text`` with every secret and token-shaped string replaced."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "<redacted>")
    return _TOKEN_RE.sub("<redacted>", text)


def _drop_when_disk_full(handler: logging.Handler) -> None:
    """A log file on a full disk drops records instead of printing a traceback to stderr for
    each one (the default ``handleError``); writing resumes when space returns."""
    default = handler.handleError

    def handle_error(record: logging.LogRecord) -> None:
        exc = sys.exc_info()[1]
        if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)):
            return
        default(record)

    handler.handleError = handle_error  # type: ignore[method-assign]


class PrivateRotatingFileHandler(logging.handlers.RotatingFileHandler):
    """A RotatingFileHandler whose files are 0600 from creation (rotations are renames, so they stay 0600).

    Existing files from older versions (the log and its rotations) are tightened when it opens.
    """

    def __init__(self, filename: Path, maxBytes: int, backupCount: int) -> None:  # noqa: N803 - stdlib names
        for index in range(1, backupCount + 1):
            tighten_private_file(Path(f"{filename}.{index}"))
        super().__init__(filename, maxBytes=maxBytes, backupCount=backupCount, encoding="utf-8")

    def _open(self):  # type: ignore[no-untyped-def]  # the stdlib's signature
        ensure_private_file(Path(self.baseFilename))
        return super()._open()


def setup_logging(log_file: Path | None, level: str = "INFO", secrets: Iterable[str] = (),
                  stderr: bool = True) -> None:
    """Configure the root logger once per process (idempotent); FolderError when the log file cannot be written."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_watchkeeper", False):
            root.removeHandler(handler)
            try:
                handler.close()
            except OSError:  # buffered lines that a full disk cannot take
                pass
    root.setLevel(logging.DEBUG)
    fmt = logging.Formatter("%(asctime)s %(levelname)s %(name)s [%(threadName)s] %(message)s")
    redactor = RedactingFilter(secrets)
    handlers: list[logging.Handler] = []
    if log_file is not None:
        try:
            ensure_private_dir(log_file.parent)
            handlers.append(PrivateRotatingFileHandler(log_file, maxBytes=2_000_000, backupCount=5))
        except OSError as exc:  # read-only, a file in the way, no permission: one line, not a traceback
            raise folder_error(f"cannot write the log file {log_file}", exc) from exc
    if stderr and sys.stderr is not None:
        handlers.append(logging.StreamHandler(sys.stderr))
    for handler in handlers:
        handler.setLevel(getattr(logging, level, logging.INFO))
        handler.setFormatter(fmt)
        handler.addFilter(redactor)
        handler._watchkeeper = True  # type: ignore[attr-defined]
        _drop_when_disk_full(handler)
        root.addHandler(handler)
    for noisy in ("apscheduler", "httpx", "httpcore", "telegram", "peewee"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
