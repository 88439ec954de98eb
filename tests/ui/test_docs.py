"""/docs in a real browser: Swagger UI renders from the vendored files, offline, with zero console errors;
and the base of the browser tests (guards, axe) catches what it is meant to catch."""

from __future__ import annotations

from typing import Any

from tests.helpers import wait_until
from tests.ui.conftest import Guard, Instance, axe_violations


def test_docs_renders_swagger_ui_with_no_request_to_another_host(page: Any, guard: Guard, instance: Instance):
    seen: list[str] = []
    page.on("request", lambda request: seen.append(request.url))
    page.goto(instance.url("/docs"))
    page.locator(".swagger-ui .info .title").filter(has_text="Watchkeeper local API").wait_for()
    page.locator(".opblock-summary-path", has_text="/checks/{name}/why").first.wait_for()
    assert page.locator(".opblock").count() >= 22  # every operation of the schema is listed
    assert instance.url("/ui/static/vendor/swagger-ui-bundle.js") in seen
    assert instance.url("/openapi.json") in seen
    guard.assert_clean()


def test_docs_operation_expands_and_its_authorize_dialog_opens_without_errors(page: Any, guard: Guard,
                                                                              instance: Instance):
    page.goto(instance.url("/docs"))
    page.locator(".opblock-summary", has_text="/health").first.click()
    page.get_by_role("button", name="Try it out").first.wait_for()
    page.locator("button.authorize").first.click()
    page.get_by_text("HTTPBearer").first.wait_for()
    guard.assert_clean()


def test_guard_reports_console_errors_csp_violations_and_aborts_foreign_requests(browser: Any, instance: Instance):
    context = browser.new_context()
    watcher = Guard(instance.origin)
    watcher.watch(context)
    page = context.new_page()
    page.goto(instance.url("/docs"))  # under the /docs CSP
    page.evaluate("""() => {
        console.error('boom');
        const s = document.createElement('script'); s.textContent = 'window.inline = 1'; document.body.append(s);
    }""")
    page.goto("about:blank")
    page.set_content('<img src="http://example.invalid/pixel.png" alt="">')  # no CSP here: the request is tried
    # page.evaluate lets Playwright dispatch the events it has received (its sync API runs them only then).
    wait_until(lambda: page.evaluate("1") and watcher.foreign and len(watcher.errors) >= 2, timeout=10,
               message=f"the problems reported; so far {watcher.problems()}")
    problems = "\n".join(watcher.problems())
    context.close()
    assert "console: boom" in problems
    # Chromium reports the violation on the console, and the guard's listener may add its own line too
    assert "violates the following Content Security Policy directive" in problems \
        or "CSP violation: script-src-elem blocked inline" in problems
    assert "request to another host: http://example.invalid/pixel.png" in problems


def test_axe_reports_a_serious_violation(browser: Any):
    context = browser.new_context(bypass_csp=True)
    page = context.new_page()
    page.set_content('<html lang="en"><title>t</title><main><img src="data:image/gif;base64,R0lGODlhAQABAAAAACw=">'
                     '</main></html>')
    found = axe_violations(page)
    context.close()
    assert [v["id"] for v in found] == ["image-alt"]
