"""Watchkeeper engine: everything that runs without a display."""

__version__ = "0.1.0"
