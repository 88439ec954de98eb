"""Delivery: the durable outbox, channel workers draining it, and the service that runs the channels' specs."""
