"""Test doubles that speak real protocols (fake Telegram Bot API server, ...)."""
