"""Read a dashboard form post (application/x-www-form-urlencoded, as htmx sends a form) with a size
cap, without python-multipart: the pages' forms are a few short text fields."""

from __future__ import annotations

from urllib.parse import parse_qs

from fastapi import Request

MAX_FORM_BODY = 16 * 1024  # bytes


class FormTooLarge(Exception):
    """The posted form is larger than MAX_FORM_BODY."""


async def form_fields(request: Request, limit: int = MAX_FORM_BODY) -> dict[str, str]:
    """The posted fields (the first value of each); FormTooLarge past ``limit`` bytes."""
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise FormTooLarge(f"form larger than {limit} bytes")
    parsed = parse_qs(body.decode("utf-8", errors="replace"), keep_blank_values=True, max_num_fields=100)
    return {key: values[0] for key, values in parsed.items()}
