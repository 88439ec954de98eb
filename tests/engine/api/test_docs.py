"""/docs: Swagger UI from the vendored files (no CDN), public, under a CSP that names its one inline script."""

from __future__ import annotations

import base64
import hashlib
import json
import re

from engine.api.docs import script_hashes
from engine.api.ui import STATIC_DIR


def test_docs_loads_swagger_ui_from_the_vendored_files_and_no_other_host(anon):
    r = anon.get("/docs")
    assert r.status_code == 200
    assert 'src="/ui/static/vendor/swagger-ui-bundle.js"' in r.text
    assert 'href="/ui/static/vendor/swagger-ui.css"' in r.text
    assert "http" not in r.text  # no absolute URL at all: no CDN, no favicon from fastapi.tiangolo.com


def test_docs_csp_allows_exactly_its_inline_script_by_hash(anon):
    r = anon.get("/docs")
    csp = r.headers["content-security-policy"]
    inline = re.findall(r"<script>(.*?)</script>", r.text, re.S)
    assert len(inline) == 1 and "SwaggerUIBundle" in inline[0]
    digest = base64.b64encode(hashlib.sha256(inline[0].encode()).digest()).decode()
    assert f"script-src 'self' 'sha256-{digest}';" in csp
    assert "unsafe" not in csp and "default-src 'none'" in csp and "frame-ancestors 'none'" in csp
    assert r.headers["x-content-type-options"] == "nosniff"


def test_script_hashes_name_each_inline_script():
    html = '<script src="/a.js"></script><script>one()</script><p></p><script>\ntwo()\n</script>'
    expected = [f"'sha256-{base64.b64encode(hashlib.sha256(s.encode()).digest()).decode()}'"
                for s in ("one()", "\ntwo()\n")]
    assert script_hashes(html) == expected


def test_vendored_assets_are_served_without_a_token(anon):
    manifest = json.loads((STATIC_DIR / "vendor" / "manifest.json").read_text())
    for name in ("swagger-ui-bundle.js", "swagger-ui.css", "htmx.min.js", "sse.js", "uPlot.iife.min.js"):
        r = anon.get(f"/ui/static/vendor/{name}")
        assert r.status_code == 200, name
        assert hashlib.sha256(r.content).hexdigest() == manifest[name]["sha256"]
    assert anon.get("/ui/static/vendor/swagger-ui-bundle.js").headers["content-type"].startswith(
        ("text/javascript", "application/javascript"))
    assert anon.get("/ui/static/vendor/swagger-ui.css").headers["content-type"].startswith("text/css")


def test_static_files_are_read_only_and_do_not_open_the_api(anon):
    assert anon.post("/ui/static/vendor/htmx.min.js").status_code == 403  # a write: the dashboard guard refuses it
    assert anon.get("/ui/static/vendor/nope.js").status_code == 404
    assert anon.get("/ui/static/vendor/../../../../http.py").status_code in (401, 404)
    assert anon.get("/ui/staticx/status").status_code == 401
