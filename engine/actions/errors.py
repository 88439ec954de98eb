"""The one exception family of the action layer; front ends map each kind to their own answer
(HTTP 404/422/409/502/503, a CLI exit code, a chat reply). Messages name the problem and never
carry a secret."""

from __future__ import annotations


class ActionError(Exception):
    """An action could not be done; the message says why in words a person reads."""


class NotFound(ActionError, LookupError):
    """No such thing (the message names it)."""


class Invalid(ActionError, ValueError):
    """The input cannot be used (the message says why)."""


class Conflict(ActionError):
    """The action is not possible in the current state."""


class ChannelFailed(ActionError):
    """A channel could not deliver (the message is already free of secrets)."""


class Unavailable(ActionError):
    """The action needs something that is not there now (no running instance, the database busy)."""
