"""Scheduled modules: heartbeat, archive, weekly, session_watch (one file each)."""
