"""Delivery: channel workers draining the outbox, and the service that runs the channels' specs."""
