"""Save light and dark screenshots of dashboard pages for the README (a development tool).

    python tools/screenshots.py                     # logs in through `watchkeeper dashboard --no-browser`
    python tools/screenshots.py 'http://127.0.0.1:8765/ui/login#t=...' overview alerts archive
    python tools/screenshots.py URL --page name=/ui/path --out docs/screenshots

URL is a one-time login URL (it is used once, for both colour schemes) or, for pages needing no session, any
URL of the instance. Each page is saved as OUT/<name>-light.png and OUT/<name>-dark.png. The browser is
Debian's chromium-headless-shell (``WK_CHROMIUM`` or ``--browser`` overrides); Playwright must be installed
(the test extra).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "screenshots"
CHROMIUM = os.environ.get("WK_CHROMIUM", "/usr/lib/chromium/chromium-headless-shell")
PAGES = {"overview": "/ui/", "checks": "/ui/checks", "alerts": "/ui/alerts", "applications": "/ui/applications",
         "goals": "/ui/goals", "archive": "/ui/archive", "delivery": "/ui/delivery"}
DEFAULT_PAGES = ("overview", "alerts", "archive")
SCHEMES = ("light", "dark")
VIEWPORT = {"width": 1280, "height": 800}
TIMEOUT_MS = 30_000


def login_url_from_cli() -> str:
    """The last line of `watchkeeper dashboard --no-browser` (the running instance's one-time login URL)."""
    result = subprocess.run([sys.executable, "-m", "engine", "dashboard", "--no-browser"], capture_output=True,
                            text=True, timeout=60, cwd=ROOT)
    if result.returncode != 0 or not result.stdout.strip():
        raise SystemExit(f"watchkeeper dashboard failed ({result.returncode}): {result.stderr.strip()}")
    return result.stdout.strip().splitlines()[-1]


def parse_pages(names: list[str], extra: list[str]) -> dict[str, str]:
    """name -> path for the named pages (known names) and ``name=/path`` entries; SystemExit on a bad one."""
    pages: dict[str, str] = {}
    for name in names:
        if name not in PAGES:
            raise SystemExit(f"unknown page {name!r}; known: {', '.join(PAGES)} (or --page name=/path)")
        pages[name] = PAGES[name]
    for entry in extra:
        name, sep, path = entry.partition("=")
        if not sep or not name or not path.startswith("/"):
            raise SystemExit(f"--page {entry!r}: expected name=/path")
        pages[name] = path
    return pages


def capture(url: str, pages: dict[str, str], out: Path, browser_path: str = CHROMIUM,
            full_page: bool = False) -> list[Path]:
    """Log in with ``url`` when it is a login URL, then save every page in both colour schemes."""
    from playwright.sync_api import sync_playwright

    parts = urlsplit(url)
    origin = f"{parts.scheme}://{parts.netloc}"
    out.mkdir(parents=True, exist_ok=True)
    saved: list[Path] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=browser_path)
        try:
            context = browser.new_context(viewport=VIEWPORT)
            context.set_default_timeout(TIMEOUT_MS)
            page = context.new_page()
            page.goto(url)
            if parts.path == "/ui/login" and parts.fragment:
                page.wait_for_url(lambda now: urlsplit(now).path != "/ui/login")
            for scheme in SCHEMES:
                page.emulate_media(color_scheme=scheme)  # type: ignore[arg-type]
                for name, path in pages.items():
                    page.goto(origin + path)
                    page.wait_for_load_state("networkidle")
                    target = out / f"{name}-{scheme}.png"
                    page.screenshot(path=str(target), full_page=full_page)
                    saved.append(target)
        finally:
            browser.close()
    return saved


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("url", nargs="?", help="a login URL of the running instance (default: ask the CLI)")
    parser.add_argument("pages", nargs="*", help=f"page names (default: {' '.join(DEFAULT_PAGES)})")
    parser.add_argument("--page", action="append", default=[], metavar="NAME=/PATH", help="another page")
    parser.add_argument("--out", type=Path, default=OUT, help=f"folder for the PNG files (default: {OUT})")
    parser.add_argument("--browser", default=CHROMIUM, help="the Chromium executable")
    parser.add_argument("--full-page", action="store_true", help="the whole scrollable page, not the viewport")
    args = parser.parse_args(argv)
    if args.url and "://" not in args.url:  # no URL given: the first word is a page name
        args.pages, args.url = [args.url, *args.pages], None
    names = args.pages or ([] if args.page else list(DEFAULT_PAGES))
    pages = parse_pages(names, args.page)
    url = args.url or login_url_from_cli()
    for path in capture(url, pages, args.out, args.browser, args.full_page):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
