"""The action layer: every operation a person or a program can ask of Watchkeeper, as typed
functions with typed results.

Front ends (the CLI, the control channel, the HTTP API, the Telegram conversation, the tray) only
parse their input, call one action and render its result; validation and the work itself live
here, once. Results are frozen dataclasses whose ``to_dict()`` is the JSON the API, the control
channel and ``--json`` emit; errors are the types in :mod:`engine.actions.errors`, which each
front end maps to its own answer (an exit code, an HTTP status, a chat reply).

What an action works against is a :class:`~engine.actions.target.Target`: the database, config,
units and (when running) the live objects of one data folder. Two things are targets:

- the running instance: the :class:`~engine.engine.Engine` of this process (the API, the tray,
  the Telegram conversation and the control-channel handlers pass it);
- :class:`~engine.actions.target.Offline`: the database, config and units without an instance
  (the CLI when none runs; otherwise the CLI sends the control-channel command, whose handler
  calls the same action on the Engine).

Actions that need the live parts (the snapshot, the scheduler, the delivery workers) take an
:class:`~engine.actions.target.Instance`. Modules, by what they act on:

- ``instance``: status, pause / resume (durations validated here), the redacted config;
- ``checks``: list checks, one check's detail, run checks now, why, schedule a job, the heartbeat log;
- ``alerts``: list and get alerts, acknowledge, snooze, the alerts behind a notification;
- ``delivery``: the channels' state, a test message, the outbox;
- ``events``: the discovered events.

The dashboard's read-only views (engine/api/ui renders them): ``overview`` (check rows with status
strips, last and next run), ``history`` (a check's strips, uptime per 24 h / 7 d / 30 d, decisions,
last run's findings), ``alert_list`` (alerts with their deliveries per channel), ``delivery_overview``,
``activity`` (the feed with a monotonic cursor), ``archive_activity`` (heatmap, tokens per day),
``goals_board``. ``bench/dashboard.py`` times them on a big database.
"""
