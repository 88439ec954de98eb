"""The interactive API documentation at /docs: Swagger UI from the vendored files, so it works offline.

The page FastAPI generates starts Swagger UI with one inline script. Rather than 'unsafe-inline', the page gets
its own Content-Security-Policy allowing exactly that script by its sha256; everything else must come from this
origin (the script and stylesheet from /ui/static/vendor/, the schema from /openapi.json).
"""

from __future__ import annotations

import base64
import hashlib
import re

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse

from engine.api.ui import STATIC_URL

DOCS_URL = "/docs"
VENDOR_URL = f"{STATIC_URL}/vendor"
CSP = ("default-src 'none'; script-src 'self' {hashes}; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
       "base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
_INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.DOTALL)


def script_hashes(html: str) -> list[str]:
    """CSP source expressions ('sha256-…') for every inline <script> of ``html``."""
    return [f"'sha256-{base64.b64encode(hashlib.sha256(body.encode()).digest()).decode()}'"
            for body in _INLINE_SCRIPT.findall(html)]


def docs_page(openapi_url: str, title: str) -> tuple[str, dict[str, str]]:
    """The Swagger UI page for ``openapi_url`` using the vendored assets, and its headers (the CSP naming its
    inline script by hash)."""
    page = get_swagger_ui_html(
        openapi_url=openapi_url, title=title,
        swagger_js_url=f"{VENDOR_URL}/swagger-ui-bundle.js", swagger_css_url=f"{VENDOR_URL}/swagger-ui.css",
        swagger_favicon_url=f"{VENDOR_URL}/swagger-favicon-32x32.png",
        oauth2_redirect_url=None,  # the API has no OAuth2 flow
        swagger_ui_parameters={"validatorUrl": None},  # no badge fetched from validator.swagger.io
    )
    html = bytes(page.body).decode()
    headers = {"Content-Security-Policy": CSP.format(hashes=" ".join(script_hashes(html))),
               "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer"}
    return html, headers


def mount_docs(app: FastAPI) -> None:
    """GET /docs (create the app with ``docs_url=None``; the page is built once, it never changes)."""
    assert app.openapi_url, "the docs need the OpenAPI schema"
    html, headers = docs_page(app.openapi_url, f"{app.title} - docs")

    async def docs(request: Request) -> HTMLResponse:
        return HTMLResponse(html, headers=headers)

    app.add_route(DOCS_URL, docs, include_in_schema=False)  # a plain route, as FastAPI adds its own /docs
