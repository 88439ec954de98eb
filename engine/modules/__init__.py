"""Scheduled modules: archive, weekly, session_watch (one file each, the ScheduledModule contract in
base.py, registered in engine.units.MODULES). The heartbeat is the engine's own job: engine/heartbeat.py."""
