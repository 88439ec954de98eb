"""This machine's name: the configured one when set, else the host name (one function for all)."""

from __future__ import annotations

from engine import machine


def test_the_configured_name_wins_over_the_host_name(monkeypatch):
    monkeypatch.setattr(machine, "host_name", lambda: "host-1234")
    assert machine.machine_name("Study desktop") == "Study desktop"
    assert machine.machine_name("  Study desktop ") == "Study desktop"


def test_a_blank_configured_name_means_the_host_name(monkeypatch):
    monkeypatch.setattr(machine, "host_name", lambda: "host-1234")
    assert machine.machine_name("") == machine.machine_name("   ") == "host-1234"
