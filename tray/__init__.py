"""The pystray face of Watchkeeper: composition (app.py), icons, and the pure menu."""
