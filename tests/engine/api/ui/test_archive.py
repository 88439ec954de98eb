"""The Archive page and the session view over the fixture transcripts: the search with its hits
highlighted (and escaped), the heatmap, the recent sessions, the token-usage panel (totals, tops, the table,
the agent and range choice, chart JSON or "no data"),
a session's transcript with tool calls and its subagents linked, and the refusals."""

from __future__ import annotations

import re
from datetime import date, timedelta
from zoneinfo import ZoneInfo

import pytest

from engine.actions import archive
from engine.actions.archive_activity import Day, Heatmap
from engine.actions.target import connected
from engine.actions.usage import UsageReport, UsageRow, UsageTotals, usage_for
from engine.api.ui.pages.archive import MARKS, heat_grid, highlight, is_long, usage_chart, with_calls, year_span
from engine.archive.model import ToolCallView, TurnView
from tests.engine.archive._util import FIXTURES

SHOP = "c0ffee00-1111-4222-8333-000000000001"
REVIEWER = "a5b0c0ffee0000001"


@pytest.fixture
def archived(engine):
    with connected(engine) as db:
        assert not archive.run(db, [str(FIXTURES)]).failed
    return engine


def test_search_finds_a_fixture_prompt_with_the_hits_marked(visitor, login, archived):
    login(visitor)
    answer = visitor.get("/ui/archive", params={"q": "checkout form"})
    assert answer.status_code == 200
    assert '<label for="archive-q">Search conversations</label>' in answer.text
    assert 'value="checkout form"' in answer.text
    assert "<mark>checkout</mark> <mark>form</mark>" in answer.text
    assert f'href="/ui/archive/{SHOP}"' in answer.text


def test_a_hit_is_escaped_and_only_the_marks_become_markup():
    opening, closing = MARKS
    assert highlight(f"a <b>{opening}x&y{closing} [z]") == "a &lt;b&gt;<mark>x&amp;y</mark> [z]"
    assert highlight(f"{closing}stray{opening}open") == "strayopen"


def test_a_search_the_index_cannot_run_says_why(visitor, login, archived):
    login(visitor)
    answer = visitor.get("/ui/archive", params={"q": "x" * 501})
    assert answer.status_code == 400 and "at most 500 are allowed" in answer.text


def test_the_recent_sessions_link_to_their_view(visitor, login, archived):
    login(visitor)
    page = visitor.get("/ui/archive").text
    assert f'<a href="/ui/archive/{SHOP}">Checkout discount code</a>' in page


def test_the_heatmap_of_a_chosen_year_holds_the_fixture_days(visitor, login, archived):
    login(visitor)
    page = visitor.get("/ui/archive", params={"until": "2026-03-31"}).text
    cell = re.search(r'<rect class="l(\d)"[^>]*data-day="2026-03-02" data-prompts="(\d+)"><title>([^<]+)</title>', page)
    assert cell and cell.group(1) != "0" and int(cell.group(2)) >= 1, page[:2000]
    assert cell.group(3).startswith("Mon 02 Mar 2026: ")
    assert re.search(r'<svg class="heat" role="img" aria-label="Activity from [^"]+ to 31 Mar 2026: \d+ prompts', page)
    assert 'href="/ui/archive?until=' in page  # Previous year


def test_a_bad_day_is_refused_naming_it(visitor, login, archived):
    login(visitor)
    answer = visitor.get("/ui/archive", params={"until": "March"})
    assert answer.status_code == 400 and "until must be a day like 2026-03-31, not &#39;March&#39;" in answer.text
    assert visitor.get("/ui/archive/usage.json", params={"until": "March"}).status_code == 400


def test_the_usage_panel_shows_totals_cost_tops_and_a_table_of_the_days(visitor, login, archived):
    login(visitor)
    page = visitor.get("/ui/archive", params={"until": "2026-03-31"}).text
    assert '<h2 id="usage-heading">Token usage</h2>' in page
    assert 'data-chart="/ui/archive/usage.json?until=2026-03-31&amp;days=30"' in page
    assert re.search(r'class="chart"[^>]*aria-label="Tokens per day from 02 Mar 2026 to 31 Mar 2026 \(log scale\): '
                     r'input [\d,]+, output', page)
    with connected(archived) as db:
        report = usage_for(db, archived.config, since="2026-03-02", until="2026-03-31")
    t = report.totals
    for kind, value in (("input", t.input_tokens), ("output", t.output_tokens), ("cache-read", t.cache_read_tokens)):
        assert f'<dd data-total="{kind}">{value:,}</dd>' in page
    assert t.output_tokens > 0 and f"Estimated with the list prices of {report.prices_as_of}." in page
    day = report.rows[0]
    assert f'<tr><th scope="row">{day.key}</th><td>{day.input_tokens:,}</td>' in page  # the table alternative
    assert "<caption>Top projects</caption>" in page and "<caption>Top models</caption>" in page
    assert '<tr><th scope="row">-home-dev-shop</th>' in page and '<tr><th scope="row">claude-opus-4-7</th>' in page
    assert '<th scope="row">&lt;synthetic&gt;</th>' not in page  # a placeholder, not a model
    if report.unpriced:
        assert f"Unpriced (tokens counted, no cost): {', '.join(report.unpriced)}." in page
    else:  # the fixtures' models are in the bundled table
        assert "Unpriced" not in page and t.cost_usd
    assert 'aria-current="true">30 days</a>' in page and 'aria-current="true">All agents</a>' in page


def test_the_agent_and_range_choice_change_the_numbers(visitor, login, archived):
    login(visitor)
    both = visitor.get("/ui/archive/usage", params={"until": "2026-03-31", "days": "30"})
    codex = visitor.get("/ui/archive/usage", params={"until": "2026-03-31", "days": "30", "agent": "codex"})
    assert both.status_code == codex.status_code == 200
    assert "<html" not in both.text and both.text.lstrip().startswith("<section")  # the panel alone, for htmx
    with connected(archived) as db:
        only = usage_for(db, archived.config, since="2026-03-02", until="2026-03-31", agent="codex").totals
    assert f'<dd data-total="output">{only.output_tokens:,}</dd>' in codex.text
    assert 'aria-current="true">Codex</a>' in codex.text
    assert re.search(r'<dd data-total="output">([\d,]+)</dd>', both.text).group(1) != f"{only.output_tokens:,}"
    week = visitor.get("/ui/archive/usage", params={"until": "2026-03-01", "days": "7"}).text
    assert "No token usage was archived from 23 Feb 2026 to 01 Mar 2026." in week and 'class="chart"' not in week
    data = visitor.get("/ui/archive/usage.json", params={"until": "2026-03-31", "days": "7", "agent": "claude"}).json()
    assert len(data["x"]) == 7 and data["log"] is True
    assert [s["label"] for s in data["series"]] == ["Input", "Output", "Cache write", "Cache read"]


def test_a_bad_usage_choice_is_refused_naming_it(visitor, login, archived):
    login(visitor)
    assert "days must be one of 7, 30, 90, not &#39;12&#39;" in visitor.get("/ui/archive", params={"days": "12"}).text
    answer = visitor.get("/ui/archive/usage", params={"agent": "gemini"})
    assert answer.status_code == 400 and "agent must be claude or codex, not &#39;gemini&#39;" in answer.text
    assert visitor.get("/ui/archive/usage.json", params={"days": "x"}).status_code == 400


def test_the_session_view_shows_header_prompts_tool_calls_and_subagent_links(visitor, login, archived):
    login(visitor)
    page = visitor.get(f"/ui/archive/{SHOP[:13]}").text
    assert "<h1>Checkout discount code</h1>" in page
    for fact in ("/home/dev/shop", "<dt>Branch</dt>", "<dt>Started</dt>"):
        assert fact in page
    assert "Add a discount code field to the checkout form." in page
    assert '<code class="tool-name">Edit</code>' in page and "failed</span>" in page
    assert f'href="/ui/archive/{SHOP}?agent={REVIEWER}"' in page
    sub = visitor.get(f"/ui/archive/{SHOP}", params={"agent": REVIEWER}).text
    assert "<h1>Subagent code-reviewer: Review discount code</h1>" in sub
    assert "Review the discount code change in checkout.py." in sub and '<code class="tool-name">Bash</code>' in sub


def test_a_codex_thread_links_the_thread_it_spawned_and_back(visitor, login, archived):
    login(visitor)
    parent, child = "c0dec000-0000-4000-8000-000000000002", "c0dec000-0000-4000-8000-000000000003"
    assert f'href="/ui/archive/{child}"' in visitor.get(f"/ui/archive/{parent}").text
    assert f'href="/ui/archive/{parent}"' in visitor.get(f"/ui/archive/{child}").text


def test_an_unknown_session_or_subagent_is_a_404_page(visitor, login, archived):
    login(visitor)
    missing = visitor.get("/ui/archive/nope")
    assert missing.status_code == 404 and "no unique archived session matches" in missing.text
    assert visitor.get(f"/ui/archive/{SHOP}", params={"agent": "nope"}).status_code == 404


def test_the_archive_needs_a_session(visitor, archived):
    assert visitor.get("/ui/archive").status_code == 401
    assert visitor.get("/ui/archive/usage.json").status_code == 401
    assert visitor.get("/ui/archive/usage").status_code == 401


def test_the_year_is_whole_monday_first_weeks_ending_on_the_day():
    first, last = year_span(date(2026, 12, 1))  # a Tuesday
    assert first.weekday() == 0 and last == date(2026, 12, 1) and (last - first).days == 52 * 7 + 1


def test_the_grid_puts_each_day_in_its_week_column_and_weekday_row():
    first = date(2026, 3, 2)  # a Monday
    days = tuple(Day(first + timedelta(days=i), 0, i % 3, i % 3) for i in range(10))
    grid = heat_grid(Heatmap(days, "UTC"))
    assert [(c.x, c.y) for c in grid.cells[:2]] == [(30, 16), (30, 29)]
    assert (grid.cells[7].x, grid.cells[7].y) == (43, 16)  # the next Monday: next column, first row
    assert grid.prompts == sum(i % 3 for i in range(10)) and grid.months[0] == (30, "Mar")


def test_usage_chart_has_every_day_with_zeros_between():
    zone = ZoneInfo("Europe/Berlin")
    row = UsageRow("2026-03-03", 1, 2, 3, 4, 0.5, ("m",), ())
    report = UsageReport(UsageTotals(1, 2, 3, 4, 0.5), (row,), "day", "2026-03-02", "2026-03-04", None,
                         "Europe/Berlin", "2026-01-01", "test", ())
    data = usage_chart(report, date(2026, 3, 2), date(2026, 3, 4), zone)
    assert data["x"][1] - data["x"][0] == 86400
    assert [s["values"] for s in data["series"]] == [[0, 1, 0], [0, 2, 0], [0, 3, 0], [0, 4, 0]]


def test_tool_calls_go_under_the_turn_they_were_made_in():
    turns = [TurnView(1, "2026-03-02T10:00:00.000Z", "a", None, 1),
             TurnView(2, "2026-03-02T11:00:00.000Z", "b", None, 1)]

    def call(ts: str | None) -> ToolCallView:
        return ToolCallView(f"t{ts}", "Read", "", ts, True, False, None, None)

    grouped, loose = with_calls(turns, [call("2026-03-02T10:30:00.000Z"), call("2026-03-02T11:00:00.000Z"),
                                        call("2026-03-02T09:00:00.000Z"), call(None)])
    assert [[c.called_ts for c in t.calls] for t in grouped] == [["2026-03-02T10:30:00.000Z"],
                                                                 ["2026-03-02T11:00:00.000Z"]]
    assert [c.called_ts for c in loose] == ["2026-03-02T09:00:00.000Z", None]


def test_a_partial_first_month_is_not_named_when_the_next_month_starts_right_after():
    first = date(2026, 3, 23)  # a Monday; April starts in the second column
    grid = heat_grid(Heatmap(tuple(Day(first + timedelta(days=i), 0, 0, 0) for i in range(21)), "UTC"))
    assert grid.months == ((43, "Apr"),)


def test_long_or_many_line_output_is_collapsed():
    assert not is_long(None) and not is_long("short") and not is_long("a\nb\nc")
    assert is_long("x" * 241) and is_long("1\n2\n3\n4\n5")


def test_the_call_that_spawned_a_subagent_links_to_it(visitor, login, archived):
    login(visitor)
    page = visitor.get(f"/ui/archive/{SHOP}").text
    assert page.count(f'href="/ui/archive/{SHOP}?agent={REVIEWER}"') == 2  # the subagent list and its Agent call
