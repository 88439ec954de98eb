"""The shared words (and each owner's states) read as plain strings wherever they go."""

from __future__ import annotations

import json
import sqlite3

import pytest

from engine.alerts.policy import DecisionAction
from engine.alerts.store import AlertState
from engine.archive.runs import RunStatus
from engine.channels.base import OutgoingMessage
from engine.delivery.outbox import ChannelHealth, OutboxState
from engine.vocabulary import NotificationKind, Severity, highest_severity, severity_rank

MEMBERS = [*Severity, *NotificationKind, *DecisionAction, *AlertState, *OutboxState, *ChannelHealth, *RunStatus]


@pytest.mark.parametrize("member", MEMBERS, ids=str)
def test_a_member_is_its_word_in_text_json_and_sql(member):
    word = member.value
    assert member == word and str(member) == word and f"{member}" == word
    assert "%s" % member == word  # noqa: UP031 - how logging formats it
    assert json.dumps({"x": member}) == json.dumps({"x": word})
    with sqlite3.connect(":memory:") as db:
        assert db.execute("SELECT ?, typeof(?)", (member, member)).fetchone() == (word, "text")


def test_the_stored_words_are_unchanged():
    assert list(Severity) == ["info", "warning", "critical"]
    assert list(NotificationKind) == ["alert", "recovery", "digest", "weekly", "offline"]
    assert list(DecisionAction) == ["SENT", "SUPPRESSED", "DEFERRED", "RECOVERY"]
    assert list(AlertState) == ["open", "acknowledged", "snoozed", "resolved"]
    assert list(OutboxState) == ["pending", "sending", "sent", "failed", "collapsed", "held", "skipped"]
    assert list(ChannelHealth) == ["ok", "broken", "rate-limited", "unavailable", "disabled", "standby"]
    assert list(RunStatus) == ["running", "ok", "partial", "failed", "disk_full", "interrupted"]


def test_severities_rank_in_order_and_an_unknown_word_ranks_as_info():
    assert [severity_rank(s) for s in ("info", "warning", "critical", "urgent")] == [0, 1, 2, 0]
    assert highest_severity(["warning", "critical", "info"]) == Severity.CRITICAL
    assert highest_severity([]) == Severity.INFO
    assert highest_severity(["urgent", "info"]) == "urgent"  # the first of equals, as stored


def test_a_message_with_an_unknown_severity_names_the_allowed_words():
    with pytest.raises(ValueError, match=r"severity must be one of \('info', 'warning', 'critical'\), got 'loud'"):
        OutgoingMessage("title", "body", "loud")


def test_the_api_filters_alerts_by_exactly_the_alert_states():
    from engine.api.http import create_app

    spec = create_app(None, None, port=0).openapi()  # type: ignore[arg-type]
    (state,) = [p for p in spec["paths"]["/alerts"]["get"]["parameters"] if p["name"] == "state"]
    pattern = next(s["pattern"] for s in state["schema"]["anyOf"] if "pattern" in s)
    assert pattern == "^(" + "|".join(AlertState) + ")$"
