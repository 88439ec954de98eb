"""Alerts: identity per (check, subject), the rate-limit policy, and the dispatcher."""
