"""Request and response models of the local HTTP API (pydantic; imported only with the API).

Stored times are UTC ISO-8601 strings (``2024-05-01T09:30:00.000000Z``) and are returned as
such. Input times accept any ISO-8601 date-time; one without an offset is taken as UTC.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from typing import Annotated, Any, Generic, Literal, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from engine.timeutil import parse_duration

MAX_ID = 2**63 - 1
MAX_DURATION = timedelta(days=3650)

T = TypeVar("T")


def _timestamp(value: datetime) -> datetime:
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    try:
        value = value.astimezone(timezone.utc)
    except (OverflowError, ValueError) as exc:
        raise ValueError("time out of range") from exc
    if not 1900 <= value.year <= 9999:
        raise ValueError("time out of range (years 1900-9999)")
    return value


def _duration(value: str) -> timedelta:
    try:
        delta = parse_duration(value)
    except (ValueError, OverflowError) as exc:
        raise ValueError(str(exc) if isinstance(exc, ValueError) else "duration too long") from exc
    if delta > MAX_DURATION:
        raise ValueError("duration too long (at most 3650d)")
    return delta


def _duration_text(value: str) -> str:
    _duration(value)
    return value


def _day(value: date) -> date:
    if not 1900 <= value.year <= 9999:
        raise ValueError("date out of range (years 1900-9999)")
    return value


Timestamp = Annotated[datetime, AfterValidator(_timestamp)]
Day = Annotated[date, AfterValidator(_day)]
Duration = Annotated[str, Field(min_length=1, max_length=40, examples=["30m", "2h", "1d", "1h30m"]),
                     AfterValidator(_duration_text)]
Name = Annotated[str, Field(min_length=1, max_length=200)]
Text = Annotated[str, Field(max_length=4000)]
Ref = Annotated[int, Field(ge=1, le=MAX_ID)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


# -- generic ----------------------------------------------------------------------------------------


class Error(BaseModel):
    """Every error except validation: ``{"detail": "what went wrong"}``."""

    detail: str


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int
    limit: int
    offset: int


class Scheduled(BaseModel):
    job: str
    scheduled: bool


class Deleted(BaseModel):
    id: int
    deleted: bool


# -- health and status ------------------------------------------------------------------------------


class HealthOut(BaseModel):
    """Public: whether the instance is up and its health state; nothing else."""

    status: Literal["up"]
    state: str


class AlertOut(BaseModel):
    id: int
    check: str
    check_name: str
    subject: str
    severity: str
    title: str
    detail: str | None
    state: str
    opened_at: str
    last_seen_at: str
    acknowledged_at: str | None
    snoozed_until: str | None
    resolved_at: str | None
    first_notified_at: str | None
    last_notified_at: str | None
    notify_count: int


class ChannelOut(BaseModel):
    name: str
    state: str
    pending: int
    failed: int
    last_error: str | None
    last_error_at: str | None
    last_ok_at: str | None
    reason: str | None = None  # why an unavailable channel cannot deliver here
    held: int = 0  # rows presence-aware routing keeps back (not pending)


class AlertCountsOut(BaseModel):
    attention: int
    acknowledged: int
    snoozed: int


class JobOut(BaseModel):
    name: str
    kind: str
    schedule: str
    next_run: str | None
    last_outcome: str | None
    last_finished: str | None
    last_error: str | None
    running: bool


class DeadmanPingOut(BaseModel):
    kind: str  # start | ok | fail
    ok: bool
    detail: str
    at: str


class DeadmanOut(BaseModel):
    """The dead-man switch (engine.deadman): the URL shown as scheme://host/… only."""

    enabled: bool
    style: str
    url: str
    interval_seconds: float
    last: DeadmanPingOut | None


class PresenceDetailOut(BaseModel):
    """Why the presence is what it is (engine.presence): the leaf that answered and what it read."""

    reason: str
    source: str
    idle_seconds: float | None
    locked: bool | None
    since: str | None


class StatusOut(BaseModel):
    state: str
    summary: str
    reasons: list[str]
    pid: int
    version: str
    started_at: str | None
    last_heartbeat: str | None
    paused_until: str | None
    open_alerts: list[AlertOut]
    alerts: AlertCountsOut
    channels: list[ChannelOut]
    last_check_at: str | None
    api_url: str | None
    api_listen: str | None = None
    jobs: list[JobOut]
    deadman: DeadmanOut | None = None
    presence: str | None = None  # present | away | unknown
    presence_detail: PresenceDetailOut | None = None


# -- checks -----------------------------------------------------------------------------------------


class CheckOut(BaseModel):
    name: str
    kind: str
    description: str
    enabled: bool
    schedule: str
    cooldown: str
    severity: str
    next_run: str | None
    last_run: str | None
    last_outcome: str | None
    last_findings: int | None
    last_error: str | None
    open_alerts: int


class CheckRunRecord(BaseModel):
    id: int
    started_at: str
    finished_at: str
    outcome: str
    findings: int
    error: str | None
    trigger: str | None


class CheckDetailOut(CheckOut):
    params: dict[str, Any]
    recent_runs: list[CheckRunRecord]


class CheckRunOut(BaseModel):
    check: str
    outcome: str
    findings: int
    error: str | None
    decision: str | None
    reason: str | None
    notification_id: int | None
    resolved: int


class RunsOut(BaseModel):
    runs: list[CheckRunOut]


class WhyOut(BaseModel):
    check: str
    last_notified: str | None
    cooldown_seconds: float
    cooldown: str
    now: str
    result: str
    notifiable: int
    text: str


# -- alerts, pause ----------------------------------------------------------------------------------


class SnoozeIn(Strict):
    duration: Duration


class PauseIn(Strict):
    duration: Duration


class PauseOut(BaseModel):
    paused_until: str | None


# -- heartbeat log, channels, outbox, events ---------------------------------------------------------


class LogEntryOut(BaseModel):
    id: int
    check: str
    ts: str
    decision: str
    reason: str
    subjects: int
    notification_id: int | None


class ChannelTestOut(BaseModel):
    channel: str
    sent: bool
    message_id: str | None


class OutboxOut(BaseModel):
    id: int
    notification_id: int
    channel: str
    state: str
    attempts: int
    created_at: str
    next_attempt_at: str
    sent_at: str | None
    last_error: str | None
    kind: str | None
    severity: str | None
    title: str | None
    route: str | None = None  # the routing decision recorded with the row (why it went, waits or was skipped)


class EventOut(BaseModel):
    id: int
    ts: str
    source: str
    kind: str
    subject: str | None
    severity: str
    detail: Any = None


# -- applications -----------------------------------------------------------------------------------

ApplicationStatus = Literal["applied", "screening", "interviewing", "offer", "accepted", "rejected", "withdrawn",
                            "ghosted"]


class ApplicationIn(Strict):
    company: Name
    role: Name
    status: ApplicationStatus = "applied"
    applied_at: Timestamp | None = Field(default=None, description="when you applied; default now")
    url: Text | None = None
    notes: Text | None = None


class ApplicationPatch(Strict):
    company: Name | None = None
    role: Name | None = None
    status: ApplicationStatus | None = None
    applied_at: Timestamp | None = None
    url: Text | None = None
    notes: Text | None = None


class ApplicationOut(BaseModel):
    id: int
    company: str
    role: str
    status: str
    applied_at: str
    updated_at: str
    url: str | None
    notes: str | None


# -- work sessions ----------------------------------------------------------------------------------


class WorkSessionIn(Strict):
    name: Name
    cwd: Text | None = None
    started_at: Timestamp | None = None


class ActivityIn(Strict):
    at: Timestamp | None = Field(default=None, description="when the activity happened; default now")


class EndIn(Strict):
    status: Literal["ended", "abandoned"] = "ended"


class WorkSessionOut(BaseModel):
    id: int
    name: str
    source: str
    external_id: str | None
    cwd: str | None
    started_at: str
    last_activity_at: str
    ended_at: str | None
    status: str
    interrupted_reason: str | None


# -- goals ------------------------------------------------------------------------------------------

GoalStatus = Literal["active", "paused", "done", "dropped"]


class DomainIn(Strict):
    name: Name
    description: Text | None = None


class DomainOut(BaseModel):
    id: int
    name: str
    description: str | None
    created_at: str


class GoalIn(Strict):
    title: Name
    domain_id: Ref | None = None
    status: GoalStatus = "active"
    target_date: Day | None = None


class GoalPatch(Strict):
    title: Name | None = None
    domain_id: Ref | None = None
    status: GoalStatus | None = None
    target_date: Day | None = None


class GoalOut(BaseModel):
    id: int
    domain_id: int | None
    domain: str | None
    title: str
    status: str
    target_date: str | None
    created_at: str
    last_progress_at: str | None


class SubGoalIn(Strict):
    title: Name


class SubGoalPatch(Strict):
    title: Name | None = None
    status: Literal["open", "done"] | None = None


class SubGoalOut(BaseModel):
    id: int
    goal_id: int
    title: str
    status: str
    created_at: str
    done_at: str | None


class DependencyIn(Strict):
    depends_on_goal_id: Ref


class DependencyOut(BaseModel):
    goal_id: int
    depends_on_goal_id: int


class ProgressIn(Strict):
    value: float | None = Field(default=None, allow_inf_nan=False)
    note: Text | None = None
    ts: Timestamp | None = Field(default=None, description="when; default now")


class ProgressOut(BaseModel):
    id: int
    goal_id: int
    ts: str
    value: float | None
    note: str | None


class GoalDetailOut(GoalOut):
    sub_goals: list[SubGoalOut]
    depends_on: list[int]
    recent_progress: list[ProgressOut]


# -- archive ----------------------------------------------------------------------------------------


class ArchiveRunOut(BaseModel):
    id: int
    started_at: str
    finished_at: str | None
    status: str
    trigger: str | None
    files_seen: int
    files_parsed: int
    files_skipped: int
    bytes_read: int
    sessions_new: int
    sessions_updated: int
    bad_lines: int
    duration_s: float | None
    error: str | None


class ArchiveSessionOut(BaseModel):
    session_id: str
    source: str
    parent_session_id: str | None
    project: str | None
    cwd: str | None
    git_branch: str | None
    cli_version: str | None
    first_ts: str | None
    last_ts: str | None
    human_prompts: int
    api_responses: int
    tool_calls: int
    tool_results: int
    tool_errors: int
    subagents: int
    input_tokens: int
    output_tokens: int
    cache_read_tokens: int
    cache_creation_tokens: int
    output_tokens_is_lower_bound: bool
    title: str | None
    status: str | None
    interrupted_reason: str | None
    archived_at: str
    updated_at: str


class TurnOut(BaseModel):
    index: int
    started_ts: str | None
    prompt: str
    final_answer: str | None
    tool_calls: int


class ToolCallOut(BaseModel):
    tool_use_id: str
    name: str | None
    agent_id: str
    called_ts: str | None
    has_result: bool
    is_error: bool
    input_preview: str | None
    result_preview: str | None


class ArchiveSessionDetailOut(BaseModel):
    session: ArchiveSessionOut
    summary_text: str | None
    summary: Any = None
    turns: list[TurnOut]
    tool_calls: list[ToolCallOut]
    subagents: list[dict[str, Any]]


class SearchHitOut(BaseModel):
    session_id: str
    title: str | None
    kind: str
    ts: str | None
    snippet: str


class UsageTotalsOut(BaseModel):
    input_tokens: int
    output_tokens: int
    cache_creation_tokens: int
    cache_read_tokens: int
    cost_usd: float | None = Field(description="USD over the priced models only; null when none is priced")


class UsageRowOut(UsageTotalsOut):
    key: str = Field(description="local date (day), Monday of the ISO week (week), YYYY-MM (month), session id, "
                                 "project folder or model id")
    models: list[str]
    unpriced: list[str]


class UsageOut(BaseModel):
    totals: UsageTotalsOut
    rows: list[UsageRowOut]
    group_by: Literal["day", "week", "month", "session", "project", "model"]
    since: date | None
    until: date | None
    agent: Literal["claude", "codex"] | None
    timezone: str
    prices_as_of: date
    prices_source: str
    unpriced: list[str]
