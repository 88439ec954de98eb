"""The one exception the life data raises: a missing record, unusable input or a refused change."""

from __future__ import annotations

from enum import StrEnum


class LifeErrorKind(StrEnum):
    """Why a life-data operation was refused."""

    NOT_FOUND = "not_found"  # no such record
    INVALID = "invalid"  # the input cannot be used
    CONFLICT = "conflict"  # the record's current state does not allow it


class LifeError(Exception):
    """A refused operation on the life data; ``kind`` says which sort, the message names the thing."""

    def __init__(self, kind: LifeErrorKind, message: str):
        super().__init__(message)
        self.kind = kind


def not_found(message: str) -> LifeError:
    return LifeError(LifeErrorKind.NOT_FOUND, message)


def invalid(message: str) -> LifeError:
    return LifeError(LifeErrorKind.INVALID, message)


def conflict(message: str) -> LifeError:
    return LifeError(LifeErrorKind.CONFLICT, message)
