"""tools/screenshots.py: each named page saved in the light and the dark colour scheme."""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from PIL import Image

from tests.helpers import ROOT

PAGE = """<!doctype html><html><head><meta name="color-scheme" content="light dark">
<link rel="stylesheet" href="site.css"><title>t</title></head><body><h1>Overview</h1></body></html>"""
CSS = "body{background:#ffffff;margin:0} @media (prefers-color-scheme: dark){body{background:#0d1117}}"


@pytest.fixture
def site(tmp_path: Path) -> Iterator[str]:
    root = tmp_path / "site"
    root.mkdir()
    (root / "index.html").write_text(PAGE)
    (root / "site.css").write_text(CSS)
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(SimpleHTTPRequestHandler, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_saves_each_page_in_light_and_dark(site: str, tmp_path: Path):
    out = tmp_path / "shots"
    result = subprocess.run([sys.executable, str(ROOT / "tools" / "screenshots.py"), f"{site}/index.html",
                             "--page", "home=/index.html", "--out", str(out)],
                            capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [str(out / "home-light.png"), str(out / "home-dark.png")]
    with Image.open(out / "home-light.png") as light, Image.open(out / "home-dark.png") as dark:
        assert light.size == dark.size == (1280, 800)
        assert light.convert("RGB").getpixel((5, 790)) == (255, 255, 255)
        assert dark.convert("RGB").getpixel((5, 790)) == (13, 17, 23)


def test_an_unknown_page_name_is_refused_naming_the_known_ones():
    result = subprocess.run([sys.executable, str(ROOT / "tools" / "screenshots.py"), "http://127.0.0.1:1/ui/",
                             "overveiw"], capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert result.returncode == 1
    assert "unknown page 'overveiw'; known: overview, checks, alerts" in result.stderr
