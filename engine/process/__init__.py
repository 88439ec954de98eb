"""The process lifecycle: the single-instance lock and PID file, the control channel, the runner
that starts and stops an instance, and the frozen (PyInstaller) start-up details."""
