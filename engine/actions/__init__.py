"""The action layer: every operation a person or a program can ask of Watchkeeper, as typed
functions with typed results.

Front ends (the CLI, the control channel, the HTTP API, the Telegram conversation, the tray) only
parse their input, call one action and render its result; validation and the work itself live
here, once. An action runs against the running instance (in its process) or directly on the
database when no instance runs (the CLI without an instance); errors are the types in
:mod:`engine.actions.errors`, which each front end maps to its own answer (an exit code, an
HTTP status, a chat reply).
"""
