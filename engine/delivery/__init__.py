"""Delivery: channel workers draining the outbox, and the Telegram conversation (buttons, commands)."""
