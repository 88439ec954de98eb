"""Checks: one file per check kind plus the registry. A check evaluates and returns findings;
it never sends anything (only the dispatcher decides and sends)."""
