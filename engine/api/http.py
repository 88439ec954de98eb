"""The thin FastAPI binding of engine.actions: routes, authentication, Host check, errors.

- Every route except ``GET /health`` (and the documentation: ``/docs``, ``/openapi.json``)
  needs ``Authorization: Bearer <token>``; the read-only token is good for GET only (403 else),
  the scrape token for ``GET /metrics`` only (403 else).
  The dashboard under ``/ui`` (engine/api/ui/) has its own guard instead: a session cookie, and
  Origin plus a custom header on writes; its cookie grants nothing outside ``/ui``; its static
  files (``/ui/static/``, which ``/docs`` loads too) are public.
- Requests whose Host header is not 127.0.0.1 or localhost with our port are refused (403),
  against DNS rebinding. No CORS headers are sent, so browsers keep other origins out.
- With ``[api] bind`` on a LAN, a peer that is not loopback must be in ``[api] allow`` and send a
  token on every path, documentation and dashboard included (engine.api.access).
- Errors: 404 missing, 409 conflicting state, 422 invalid input (FastAPI's shape), 502 a channel
  failed, 503 database busy. Each handler is a sync function, so FastAPI runs it in its thread
  pool with the thread's own database connection.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

from fastapi import Body, Depends, FastAPI, Path, Query, Request
from fastapi.responses import JSONResponse, Response
from fastapi.security import HTTPBearer
from peewee import IntegrityError, OperationalError
from pydantic import BaseModel

from engine import __version__
from engine.actions import alerts as alerts_
from engine.actions import archive, delivery, errors, instance, life, usage
from engine.actions import checks as checks_
from engine.actions import events as events_
from engine.actions import metrics as metrics_
from engine.api import models as m
from engine.api.access import LanAccess, Refusal, is_loopback_peer, lan_refusal, token_refusal
from engine.api.docs import mount_docs
from engine.api.metrics import CONTENT_TYPE, exposition
from engine.api.tokens import TokenStore
from engine.login_tokens import OneTimeTokens
from engine.store.db import connection

if TYPE_CHECKING:
    from engine.engine import Engine

log = logging.getLogger(__name__)

R = TypeVar("R")

PUBLIC_PATHS = frozenset({"/health", "/docs", "/openapi.json"})
METRICS_PATH = "/metrics"  # Prometheus text; the scrape token is good for it and nothing else
UI_PREFIX = "/ui"  # the dashboard: its own guard (engine.api.ui.guard: session cookie, Origin); no bearer token
READ_METHODS = frozenset({"GET", "HEAD"})
MAX_OFFSET = 2**62
RUN_TRIGGER = "api"  # how check runs asked for through the API are recorded


class ValidationItem(BaseModel):
    loc: list[str | int]
    msg: str
    type: str


class ValidationErrorOut(BaseModel):
    """422: what was wrong with the input, per field (FastAPI's standard shape)."""

    detail: list[ValidationItem]


def _error(description: str) -> dict[str, Any]:
    return {"model": m.Error, "description": description}


RESPONSES: dict[int | str, dict[str, Any]] = {
    400: _error("The request body cannot be parsed"),
    401: _error("Missing or wrong token"),
    403: _error("Read-only token used for a write, or a foreign Host header"),
    404: _error("Not found"),
    409: _error("Not possible in the current state"),
    422: {"model": ValidationErrorOut, "description": "Invalid input"},
    503: _error("Database busy; try again"),
}

Limit = Annotated[int, Query(ge=1, le=1000, description="page size")]
Offset = Annotated[int, Query(ge=0, le=MAX_OFFSET, description="rows to skip")]
Id = Annotated[int, Path(ge=1, le=m.MAX_ID)]
CheckName = Annotated[str, Path(min_length=1, max_length=200)]
ChannelName = Annotated[str, Path(min_length=1, max_length=50)]
SessionRef = Annotated[str, Path(min_length=1, max_length=200)]
Filter = Annotated[str | None, Query(max_length=200)]
Since = Annotated[m.Timestamp | None, Query(description="only entries at or after this time")]
Until = Annotated[m.Timestamp | None, Query(description="only entries before this time")]


def _json(status: int, content: Any, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(status_code=status, content=content, headers=headers)


class Guard:
    """Pure ASGI middleware: the Host check, then the bearer token, before any routing or parsing;
    with ``lan`` (a LAN bind), a peer that is not loopback is judged by engine.api.access.lan_refusal instead."""

    def __init__(self, app: Any, tokens: TokenStore, hosts: Iterable[str], lan: LanAccess | None = None):
        self.app = app
        self.tokens = tokens
        self.hosts = frozenset(h.lower() for h in hosts)
        self.lan = lan

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        host = auth = b""
        for key, value in scope["headers"]:
            if key == b"host":
                host = value
            elif key == b"authorization":
                auth = value
        peer = (scope.get("client") or (None,))[0]
        if self.lan is not None and not is_loopback_peer(peer):
            refusal = _response(lan_refusal(self.lan, peer, scope["method"], scope["path"], auth,
                                            self.tokens.current()))
        else:
            refusal = self._refusal(host.decode("latin-1").lower(), auth, scope["method"], scope["path"])
        if refusal is None:
            await self.app(scope, receive, send)
            return
        await refusal(scope, receive, send)

    def _refusal(self, host: str, auth: bytes, method: str, path: str) -> JSONResponse | None:
        if host not in self.hosts:
            return _json(403, {"detail": "host not allowed"})
        if path in PUBLIC_PATHS and method in READ_METHODS:
            return None
        if path == UI_PREFIX or path.startswith(UI_PREFIX + "/"):
            return None
        return _response(token_refusal(auth, method, path, self.tokens.current()))


def _response(refusal: Refusal | None) -> JSONResponse | None:
    if refusal is None:
        return None
    status, detail = refusal
    return _json(status, {"detail": detail}, {"WWW-Authenticate": "Bearer"} if status == 401 else None)


def allowed_hosts(port: int) -> list[str]:
    """The Host headers a loopback peer may send (against DNS rebinding)."""
    return [f"127.0.0.1:{port}", f"localhost:{port}"]


def create_app(engine: Engine, tokens: TokenStore, *, port: int, extra_hosts: Iterable[str] = (),
               logins: OneTimeTokens | None = None, lan: LanAccess | None = None) -> FastAPI:
    """The API for a started ``engine`` served on 127.0.0.1:``port``, with the dashboard under /ui
    (``logins``: the instance's one-time login tokens; a fresh table when not given; ``lan``: the
    allow-list when the API also listens on a LAN address)."""
    app = FastAPI(
        docs_url=None,  # mount_docs serves /docs from the vendored Swagger UI
        title="Watchkeeper local API",
        version=__version__,
        description="The running Watchkeeper instance, on 127.0.0.1 only. Send `Authorization: Bearer <token>`"
                    " (`watchkeeper api token`); the read-only token (`--read-only`) is good for GET only, the scrape"
                    " token (`--scrape`) for GET /metrics only.",
        openapi_tags=[{"name": n} for n in ("health", "status", "metrics", "checks", "alerts", "log", "channels",
                                             "applications", "work sessions", "goals", "archive", "events",
                                             "config")],
    )
    bearer = HTTPBearer(auto_error=False, description="watchkeeper api token")
    auth = [Depends(bearer)]  # declares the scheme in OpenAPI; Guard enforces it

    def db_call(fn: Callable[..., R], *args: Any, **kwargs: Any) -> R:
        """Run ``fn`` with this thread's own database connection."""
        assert engine.db is not None
        with connection(engine.db):
            return fn(*args, **kwargs)

    def db_fn(fn: Callable[..., R], *args: Any, **kwargs: Any) -> R:
        return db_call(fn, engine.db, *args, **kwargs)

    # -- errors ---------------------------------------------------------------------------------------

    def handler(status: int) -> Callable[[Request, Exception], Any]:
        async def handle(request: Request, exc: Exception) -> JSONResponse:
            return _json(status, {"detail": str(exc).strip("'\"") or type(exc).__name__})

        return handle

    async def invalid(request: Request, exc: Exception) -> JSONResponse:
        return _json(422, {"detail": [{"loc": ["body"], "msg": str(exc), "type": "value_error"}]})

    async def busy(request: Request, exc: Exception) -> JSONResponse:
        log.warning("API request failed on the database: %s", exc)
        return _json(503, {"detail": f"database busy or unavailable: {exc}"})

    async def integrity(request: Request, exc: Exception) -> JSONResponse:
        return _json(409, {"detail": f"conflicts with stored data: {exc}"})

    app.add_exception_handler(errors.NotFound, handler(404))
    app.add_exception_handler(LookupError, handler(404))
    app.add_exception_handler(errors.Conflict, handler(409))
    app.add_exception_handler(errors.ChannelFailed, handler(502))
    app.add_exception_handler(errors.Unavailable, handler(503))
    app.add_exception_handler(ValueError, invalid)
    app.add_exception_handler(OverflowError, invalid)
    app.add_exception_handler(IntegrityError, integrity)
    app.add_exception_handler(OperationalError, busy)

    # -- health and status ----------------------------------------------------------------------------

    @app.get("/health", response_model=m.HealthOut, tags=["health"], responses={403: RESPONSES[403]})
    def health() -> Any:
        """Public: is the instance up, and its health state (no token needed; nothing secret)."""
        return {"status": "up", "state": engine.snapshot().state.value}

    def route(method: str, path: str, model: Any, *, tags: list[str], status_code: int = 200,
              extra: dict[int | str, dict[str, Any]] | None = None) -> Callable[[Callable[..., Any]], Any]:
        return getattr(app, method)(path, response_model=model, tags=tags, dependencies=auth,
                                    status_code=status_code, responses={**RESPONSES, **(extra or {})})

    @route("get", "/status", m.StatusOut, tags=["status"])
    def status() -> Any:
        """Health, heartbeat, open alerts, channels and jobs (what `watchkeeper status` shows)."""
        return instance.status(engine).to_dict()

    scrape = exposition(lambda: db_call(metrics_.metrics, engine))

    @app.get(METRICS_PATH, tags=["metrics"], dependencies=auth, response_model=str,
             responses={**RESPONSES, 200: {"description": "Prometheus text exposition format (version 0.0.4)",
                                           "content": {"text/plain": {"schema": {"type": "string"}}}}})
    def metrics() -> Response:
        """Health, alerts, outbox, check runs and durations, heartbeat, archive and version in Prometheus text
        format; the full, read-only or scrape token (`watchkeeper api token --scrape`) is accepted."""
        return Response(scrape(), media_type=CONTENT_TYPE)

    @route("get", "/config", dict[str, Any], tags=["config"])
    def config() -> Any:
        """The effective configuration; secrets are shown as `<set>`."""
        return instance.redacted_config(engine)

    # -- checks -----------------------------------------------------------------------------------------

    @route("get", "/checks", list[m.CheckOut], tags=["checks"])
    def checks() -> Any:
        """Every configured check: schedule, cooldown, next and last run, open alerts."""
        return [c.to_dict() for c in db_call(checks_.list_checks, engine)]

    @route("post", "/checks/run", m.RunsOut, tags=["checks"])
    def run_all() -> Any:
        """Run every enabled check now under the rate limits; returns when they ran."""
        return db_call(checks_.run_checks, engine, None, RUN_TRIGGER).to_dict()

    @route("get", "/checks/{name}", m.CheckDetailOut, tags=["checks"])
    def check(name: CheckName) -> Any:
        """One check with its parameters and recent runs."""
        return db_call(checks_.check_detail, engine, name).to_dict()

    @route("post", "/checks/{name}/run", m.RunsOut, tags=["checks"])
    def run_check(name: CheckName) -> Any:
        """Run one check now under the rate limits; returns the run (findings, decision, reason)."""
        return db_call(checks_.run_checks, engine, [name], RUN_TRIGGER).to_dict()

    @route("get", "/checks/{name}/why", m.WhyOut, tags=["checks"])
    def check_why(name: CheckName) -> Any:
        """The cooldown decision now, as `check why` prints it (`text`) and as data."""
        explanation = db_call(checks_.why, engine, name)
        return {**explanation.to_dict(), "text": explanation.text()}

    # -- alerts, pause -----------------------------------------------------------------------------------

    @route("get", "/alerts", m.Page[m.AlertOut], tags=["alerts"])
    def alerts(check: Filter = None, state: Annotated[str | None, Query(
                   pattern="^(open|acknowledged|snoozed|resolved)$")] = None,
               live: Annotated[bool, Query(description="only alerts not resolved")] = False,
               limit: Limit = 100, offset: Offset = 0) -> Any:
        """Alerts, newest first."""
        return db_call(alerts_.list_alerts, engine, check=check, state=state, live_only=live, limit=limit,
                       offset=offset).to_dict()

    @route("get", "/alerts/{alert_id}", m.AlertOut, tags=["alerts"])
    def alert(alert_id: Id) -> Any:
        return db_call(alerts_.get_alert, engine, alert_id).to_dict()

    @route("post", "/alerts/{alert_id}/ack", m.AlertOut, tags=["alerts"])
    def acknowledge(alert_id: Id) -> Any:
        """Acknowledge: no more reminders until the alert resolves."""
        return db_call(alerts_.acknowledge, engine, alert_id).to_dict()

    @route("post", "/alerts/{alert_id}/snooze", m.AlertOut, tags=["alerts"])
    def snooze(alert_id: Id, body: m.SnoozeIn) -> Any:
        """Snooze for a duration such as `2h` or `1d`."""
        return db_call(alerts_.snooze, engine, alert_id, m._duration(body.duration)).to_dict()

    @route("post", "/pause", m.PauseOut, tags=["alerts"])
    def pause(body: m.PauseIn) -> Any:
        """Pause all alerts for a duration."""
        return db_call(instance.pause, engine, m._duration(body.duration)).to_dict()

    @route("post", "/resume", m.PauseOut, tags=["alerts"])
    def resume() -> Any:
        """Resume alerts."""
        return db_call(instance.resume, engine).to_dict()

    # -- heartbeat log, channels, outbox, events --------------------------------------------------------

    @route("get", "/log", m.Page[m.LogEntryOut], tags=["log"])
    def heartbeat_log(check: Filter = None, decision: Filter = None, since: Since = None, until: Until = None,
                      limit: Limit = 100, offset: Offset = 0) -> Any:
        """heartbeat_log: every notification decision with its reason, newest first."""
        return db_call(checks_.heartbeat_log, engine, check=check, decision=decision, since=since, until=until,
                       limit=limit, offset=offset).to_dict()

    @route("get", "/channels", list[m.ChannelOut], tags=["channels"])
    def channels() -> Any:
        """Delivery channels: state, pending and failed counts, last error."""
        return [c.to_dict() for c in db_call(delivery.channels, engine)]

    @route("post", "/channels/{channel}/test", m.ChannelTestOut, tags=["channels"],
           extra={502: _error("The channel could not deliver")})
    def channel_test(channel: ChannelName) -> Any:
        """Send the test message through one channel now."""
        return db_call(delivery.send_test_message, engine, channel).to_dict()

    @route("get", "/outbox", m.Page[m.OutboxOut], tags=["channels"])
    def outbox(channel: Filter = None, state: Filter = None, limit: Limit = 100, offset: Offset = 0) -> Any:
        """The delivery outbox, newest first."""
        return db_call(delivery.outbox, engine, channel=channel, state=state, limit=limit, offset=offset).to_dict()

    @route("get", "/events", m.Page[m.EventOut], tags=["events"])
    def events(source: Filter = None, kind: Filter = None, severity: Filter = None, since: Since = None,
               until: Until = None, limit: Limit = 100, offset: Offset = 0) -> Any:
        """discovered_events, newest first."""
        return db_call(events_.events, engine, source=source, kind=kind, severity=severity, since=since,
                       until=until, limit=limit, offset=offset).to_dict()

    # -- applications -------------------------------------------------------------------------------------

    @route("post", "/applications", m.ApplicationOut, tags=["applications"], status_code=201)
    def create_application(body: m.ApplicationIn) -> Any:
        return db_fn(life.create_application, now=engine.now(), **body.model_dump()).to_dict()

    @route("get", "/applications", m.Page[m.ApplicationOut], tags=["applications"])
    def applications(status: Filter = None, company: Filter = None, limit: Limit = 100,
                     offset: Offset = 0) -> Any:
        """Applications, oldest first; `company` matches a part of the name."""
        return db_fn(life.list_applications, status=status, company=company, limit=limit, offset=offset).to_dict()

    @route("get", "/applications/{app_id}", m.ApplicationOut, tags=["applications"])
    def application(app_id: Id) -> Any:
        return db_fn(life.get_application, app_id).to_dict()

    @route("patch", "/applications/{app_id}", m.ApplicationOut, tags=["applications"])
    def update_application(app_id: Id, body: m.ApplicationPatch) -> Any:
        return db_fn(life.update_application, app_id, now=engine.now(), **body.model_dump(exclude_unset=True)).to_dict()

    @route("delete", "/applications/{app_id}", m.Deleted, tags=["applications"])
    def delete_application(app_id: Id) -> Any:
        return db_fn(life.delete_application, app_id).to_dict()

    # -- work sessions ------------------------------------------------------------------------------------

    @route("post", "/work-sessions", m.WorkSessionOut, tags=["work sessions"], status_code=201)
    def start_session(body: m.WorkSessionIn) -> Any:
        """Start a work session; session_crash alerts when it shows no activity for a while."""
        return db_fn(life.start_work_session, now=engine.now(), **body.model_dump()).to_dict()

    @route("get", "/work-sessions", m.Page[m.WorkSessionOut], tags=["work sessions"])
    def sessions(status: Filter = None, limit: Limit = 100, offset: Offset = 0) -> Any:
        return db_fn(life.list_work_sessions, status=status, limit=limit, offset=offset).to_dict()

    @route("get", "/work-sessions/{session_id}", m.WorkSessionOut, tags=["work sessions"])
    def session(session_id: Id) -> Any:
        return db_fn(life.get_work_session, session_id).to_dict()

    @route("post", "/work-sessions/{session_id}/activity", m.WorkSessionOut, tags=["work sessions"])
    def activity(session_id: Id, body: Annotated[m.ActivityIn | None, Body()] = None) -> Any:
        """Record activity in an active session (the body is optional)."""
        return db_fn(life.record_activity, session_id, now=engine.now(), at=body.at if body else None).to_dict()

    @route("post", "/work-sessions/{session_id}/end", m.WorkSessionOut, tags=["work sessions"])
    def end_session(session_id: Id, body: Annotated[m.EndIn | None, Body()] = None) -> Any:
        return db_fn(life.end_work_session, session_id, now=engine.now(),
                     **(body.model_dump() if body else {})).to_dict()

    # -- goals --------------------------------------------------------------------------------------------

    @route("get", "/goals/domains", list[m.DomainOut], tags=["goals"])
    def domains() -> Any:
        return [d.to_dict() for d in db_fn(life.list_domains)]

    @route("post", "/goals/domains", m.DomainOut, tags=["goals"], status_code=201)
    def create_domain(body: m.DomainIn) -> Any:
        return db_fn(life.create_domain, now=engine.now(), **body.model_dump()).to_dict()

    @route("get", "/goals", m.Page[m.GoalOut], tags=["goals"])
    def goals(domain_id: Annotated[int | None, Query(ge=1, le=m.MAX_ID)] = None, status: Filter = None,
              limit: Limit = 100, offset: Offset = 0) -> Any:
        return db_fn(life.list_goals, domain_id=domain_id, status=status, limit=limit, offset=offset).to_dict()

    @route("post", "/goals", m.GoalOut, tags=["goals"], status_code=201)
    def create_goal(body: m.GoalIn) -> Any:
        return db_fn(life.create_goal, now=engine.now(), **body.model_dump()).to_dict()

    @route("get", "/goals/{goal_id}", m.GoalDetailOut, tags=["goals"])
    def goal(goal_id: Id) -> Any:
        """A goal with sub-goals, dependencies and recent progress."""
        return db_fn(life.goal_detail, goal_id).to_dict()

    @route("patch", "/goals/{goal_id}", m.GoalOut, tags=["goals"])
    def update_goal(goal_id: Id, body: m.GoalPatch) -> Any:
        return db_fn(life.update_goal, goal_id, **body.model_dump(exclude_unset=True)).to_dict()

    @route("post", "/goals/{goal_id}/sub-goals", m.SubGoalOut, tags=["goals"], status_code=201)
    def add_sub_goal(goal_id: Id, body: m.SubGoalIn) -> Any:
        return db_fn(life.add_sub_goal, goal_id, body.title, now=engine.now()).to_dict()

    @route("patch", "/goals/sub-goals/{sub_goal_id}", m.SubGoalOut, tags=["goals"])
    def update_sub_goal(sub_goal_id: Id, body: m.SubGoalPatch) -> Any:
        """Rename a sub-goal or mark it done (which counts as progress) or open."""
        return db_fn(life.update_sub_goal, sub_goal_id, now=engine.now(),
                     **body.model_dump(exclude_unset=True)).to_dict()

    @route("post", "/goals/{goal_id}/dependencies", m.DependencyOut, tags=["goals"], status_code=201)
    def add_dependency(goal_id: Id, body: m.DependencyIn) -> Any:
        """This goal depends on another; cycles are refused (409)."""
        return db_fn(life.add_dependency, goal_id, body.depends_on_goal_id).to_dict()

    @route("delete", "/goals/{goal_id}/dependencies/{depends_on_goal_id}", m.DependencyOut, tags=["goals"])
    def remove_dependency(goal_id: Id, depends_on_goal_id: Id) -> Any:
        return db_fn(life.remove_dependency, goal_id, depends_on_goal_id).to_dict()

    @route("post", "/goals/{goal_id}/progress", m.ProgressOut, tags=["goals"], status_code=201)
    def add_progress(goal_id: Id, body: m.ProgressIn) -> Any:
        """A progress update (resets goal_staleness for the goal)."""
        return db_fn(life.add_progress, goal_id, body.note, body.value, now=engine.now(), at=body.ts).to_dict()

    @route("get", "/goals/{goal_id}/progress", m.Page[m.ProgressOut], tags=["goals"])
    def progress(goal_id: Id, limit: Limit = 100, offset: Offset = 0) -> Any:
        return db_fn(life.list_progress, goal_id, limit=limit, offset=offset).to_dict()

    # -- archive ------------------------------------------------------------------------------------------

    @route("get", "/archive/runs", m.Page[m.ArchiveRunOut], tags=["archive"])
    def archive_runs(limit: Limit = 50, offset: Offset = 0) -> Any:
        return db_fn(archive.list_runs, limit=limit, offset=offset).to_dict()

    @route("post", "/archive/run", m.Scheduled, tags=["archive"], status_code=202)
    def archive_run() -> Any:
        """Start an archive run in the background (see GET /archive/runs for its result)."""
        return archive.run_in_instance(engine).to_dict()

    @route("get", "/archive/sessions", list[m.ArchiveSessionOut], tags=["archive"])
    def archive_sessions(limit: Limit = 50) -> Any:
        return [s.to_dict() for s in db_fn(archive.list_sessions, limit=limit)]

    @route("get", "/archive/sessions/{session_id}", m.ArchiveSessionDetailOut, tags=["archive"])
    def archive_session(session_id: SessionRef) -> Any:
        """One archived session (full id or a unique prefix)."""
        return db_fn(archive.show_session, session_id).to_dict()

    @route("get", "/archive/search", list[m.SearchHitOut], tags=["archive"])
    def archive_search(q: Annotated[str, Query(min_length=1, max_length=500)], limit: Limit = 20) -> Any:
        """Full-text search over archived prompts and answers."""
        return [h.to_dict() for h in db_fn(archive.search, q, limit=limit)]

    @route("get", "/usage", m.UsageOut, tags=["archive"])
    def usage_report(
        by: Annotated[str, Query(pattern="^(day|week|month|session|project|model)$")] = "day",
        since: Annotated[str | None, Query(description="first local day, YYYY-MM-DD")] = None,
        until: Annotated[str | None, Query(description="last local day, YYYY-MM-DD")] = None,
        agent: Annotated[str | None, Query(pattern="^(claude|codex)$")] = None,
    ) -> Any:
        """Token usage and estimated cost from the archive (`watchkeeper usage --json`)."""
        return db_fn(usage.usage_for, engine.config, group_by=by, since=since, until=until, agent=agent).to_dict()

    from engine.api.ui import mount_ui

    mount_docs(app)
    mount_ui(app, engine, port=port, logins=logins if logins is not None else OneTimeTokens())
    app.add_middleware(Guard, tokens=tokens, hosts=[*allowed_hosts(port), *extra_hosts], lan=lan)  # outermost
    return app

