"""Chat front ends: a person talking to Watchkeeper from a messenger. Like the CLI and the HTTP
API they sit above engine.actions: they parse a command or a button press, call an action and
render its result as chat text. The channel underneath (engine.channels) only carries messages.
"""
