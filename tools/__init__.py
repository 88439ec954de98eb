"""Development tools (vendoring, screenshots); not part of the shipped package."""
