"""A stand-in for GNOME's IdleMonitor and the freedesktop ScreenSaver on a real D-Bus session bus
(PyGObject's Gio), for the presence leaf tests. Run as a process:

    python fake_idle_service.py mutter IDLE_MS
    python fake_idle_service.py screensaver ACTIVE(true|false) IDLE_MS

It owns the service's bus name, answers its methods, and prints "ready" once the name is owned.
"""

from __future__ import annotations

import sys

import gi

gi.require_version("Gio", "2.0")
from gi.repository import Gio, GLib  # noqa: E402

MUTTER_XML = """<node><interface name="org.gnome.Mutter.IdleMonitor">
<method name="GetIdletime"><arg type="t" direction="out"/></method></interface></node>"""
SCREENSAVER_XML = """<node><interface name="org.freedesktop.ScreenSaver">
<method name="GetActive"><arg type="b" direction="out"/></method>
<method name="GetSessionIdleTime"><arg type="u" direction="out"/></method></interface></node>"""


def main(argv: list[str]) -> None:
    kind = argv[1]
    if kind == "mutter":
        name, path, xml = "org.gnome.Mutter.IdleMonitor", "/org/gnome/Mutter/IdleMonitor/Core", MUTTER_XML
        answers = {"GetIdletime": GLib.Variant("(t)", (int(argv[2]),))}
    else:
        name, path, xml = "org.freedesktop.ScreenSaver", "/org/freedesktop/ScreenSaver", SCREENSAVER_XML
        answers = {"GetActive": GLib.Variant("(b)", (argv[2] == "true",)),
                   "GetSessionIdleTime": GLib.Variant("(u)", (int(argv[3]),))}
    loop = GLib.MainLoop()
    node = Gio.DBusNodeInfo.new_for_xml(xml)

    def on_call(conn, sender, obj, iface, method, params, invocation):  # type: ignore[no-untyped-def]
        invocation.return_value(answers[method])

    def on_bus(conn, _name):  # type: ignore[no-untyped-def]
        conn.register_object(path, node.interfaces[0], on_call, None, None)

    def on_name(_conn, _name):  # type: ignore[no-untyped-def]
        print("ready", flush=True)

    Gio.bus_own_name(Gio.BusType.SESSION, name, Gio.BusNameOwnerFlags.NONE, on_bus, on_name,
                     lambda *_: loop.quit())
    loop.run()


if __name__ == "__main__":
    main(sys.argv)
