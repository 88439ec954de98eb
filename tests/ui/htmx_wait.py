"""Waiting for htmx in browser tests: content it swaps in is live (its hx-* listeners attached) only
once the swap has settled, so a test that acts on new content at once waits for that first."""

from __future__ import annotations

from typing import Any

BUSY = ".htmx-request, .htmx-swapping, .htmx-settling, .htmx-added"


def settled(page: Any) -> None:
    """Wait until no htmx request, swap or settle is under way on the page."""
    page.wait_for_function(f"() => !document.querySelector({BUSY!r})")
