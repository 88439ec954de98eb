"""The check contract: a kind declares its parameters and evaluates to findings."""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar

from peewee import SqliteDatabase

from engine.checks.children import ChildRegistry

SEVERITIES = ("info", "warning", "critical")


class CheckError(Exception):
    """A check could not evaluate (bad parameters, unreachable data); recorded as an error run."""


@dataclass(frozen=True)
class Finding:
    """One thing a check found: ``subject`` is its stable identity within the check."""

    subject: str
    severity: str
    title: str
    detail: str = ""


@dataclass
class CheckContext:
    """What a check may read: the database, the time, its own parameters, persistent state."""

    db: SqliteDatabase
    now: datetime
    params: dict[str, Any]
    name: str
    get_state: Callable[[str], str | None] = lambda key: None
    set_state: Callable[[str, str | None], None] = lambda key, value: None
    children: ChildRegistry | None = None  # where programs a check starts are tracked (killed at shutdown)


@dataclass(frozen=True)
class Param:
    """A documented check parameter with its type and an optional validator."""

    default: Any
    doc: str
    check: Callable[[Any], str | None] | None = None


class CheckKind(ABC):
    """Base of every check kind. Subclasses set ``kind``, ``schedule``, ``cooldown``, ``params``
    and implement ``evaluate``."""

    kind: ClassVar[str] = ""
    description: ClassVar[str] = ""
    schedule: ClassVar[str] = "every 1h"
    cooldown: ClassVar[str] = "24h"
    severity: ClassVar[str] = "warning"
    params: ClassVar[dict[str, Param]] = {}
    builtin: ClassVar[bool] = True
    timeout_seconds: ClassVar[float] = 60.0

    @abstractmethod
    def evaluate(self, ctx: CheckContext) -> list[Finding]:
        """The findings for ``ctx``; raise CheckError when the check cannot evaluate."""

    @classmethod
    def validate_params(cls, params: dict[str, Any]) -> list[str]:
        """Problems with ``params`` (beyond the common keys); empty when valid."""
        problems = []
        for key, value in params.items():
            spec = cls.params.get(key)
            if spec is None:
                continue
            if spec.default is not None and not _same_type(value, spec.default):
                problems.append(f"{key} = {_shown(value)}: expected {type(spec.default).__name__}")
            elif spec.check is not None and (problem := spec.check(value)):
                problems.append(f"{key} = {_shown(value)}: expected {problem}")
        return problems


_USERINFO = re.compile(r"(?<=://)[^/@\s]+@")


def _shown(value: Any) -> str:
    """A value for an error message, with URL credentials (user:password@) hidden."""
    return _USERINFO.sub("***@", repr(value))


def _same_type(value: Any, default: Any) -> bool:
    if isinstance(default, bool):
        return isinstance(value, bool)
    if isinstance(default, (int, float)):
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    return isinstance(value, type(default))


@dataclass(frozen=True)
class CheckDefinition:
    """A configured check: a kind plus its effective settings."""

    name: str
    kind: type[CheckKind]
    enabled: bool
    schedule: str
    cooldown: str
    severity: str
    params: dict[str, Any] = field(default_factory=dict)
