// The dashboard's page script (an ES module; no inline script anywhere: the CSP forbids it).
// - htmx: every request carries X-WK-UI: 1 (the server refuses writes without it).
// - times: <time datetime="UTC ISO">absolute local time</time> becomes relative text ("3 minutes
//   ago") with the absolute local time and zone as its title; refreshed every 30 s and after swaps.
// - live updates: elements with data-live="/ui/events" get the SSE connection (htmx-ext-sse) while
//   the tab is visible; it is closed while hidden (browsers allow only 6 connections per host).
//   A failed stream asks GET /ui/session; a 401 (e.g. the instance restarted) shows the Locked text.
// - charts: <div class="chart" data-chart="/ui/...json" aria-label="..."> is drawn with uPlot (when
//   the page loads it) from {"x": [unix seconds], "series": [{"label": "...", "values": [...]}]},
//   in the theme's colours, resized with its container and redrawn when the colour scheme changes or htmx
//   swaps a new one in. "log": true draws the values on a log scale (a zero is a gap: log 0 has no place).
const LOCKED = "Locked: open the dashboard from the Watchkeeper tray menu (or run `watchkeeper dashboard`).";
const relative = new Intl.RelativeTimeFormat(undefined, { numeric: "auto" });
const absolute = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "long" });
const UNITS = [["year", 31536000], ["month", 2592000], ["week", 604800], ["day", 86400], ["hour", 3600],
  ["minute", 60], ["second", 1]];

function relativeText(date, now) {
  const seconds = (date.getTime() - now) / 1000;
  for (const [unit, size] of UNITS) {
    if (Math.abs(seconds) >= size || unit === "second") {
      return relative.format(Math.round(seconds / size), unit);
    }
  }
  return "";
}

export function renderTimes(root = document) {
  const now = Date.now();
  for (const el of root.querySelectorAll("time[datetime]")) {
    const date = new Date(el.getAttribute("datetime"));
    if (Number.isNaN(date.getTime())) continue;
    if (!el.dataset.absolute) el.dataset.absolute = el.textContent;
    el.title = absolute.format(date);
    el.textContent = relativeText(date, now);
  }
}

function showLocked() {
  const main = document.getElementById("main");
  if (!main) return;
  const p = document.createElement("p");
  p.className = "locked";
  p.setAttribute("role", "alert");
  p.textContent = LOCKED;
  main.replaceChildren(p);
}

async function checkSession() {
  try {
    const answer = await fetch("/ui/session", { credentials: "same-origin" });
    if (answer.status === 401) showLocked();
  } catch {
    // the instance is gone; htmx-ext-sse keeps retrying
  }
}

// Both directions swap in a fresh copy of the element: htmx cleans up the replaced one (htmx-ext-sse
// closes its EventSource) and processes the copy whole (its sse-swap children bind to the new one).
function replaceLive(el, connect) {
  const copy = el.cloneNode(true);
  if (connect) copy.setAttribute("sse-connect", el.dataset.live);
  else copy.removeAttribute("sse-connect");
  window.htmx.swap(el, copy.outerHTML, { swapStyle: "outerHTML" });
}

function connectLive() {
  for (const el of document.querySelectorAll("[data-live]:not([sse-connect])")) replaceLive(el, true);
}

function disconnectLive() {
  for (const el of document.querySelectorAll("[data-live][sse-connect]")) replaceLive(el, false);
}

function themeColours() {
  const css = getComputedStyle(document.documentElement);
  const value = (name) => css.getPropertyValue(name).trim();
  // series n (from 1) takes --chart-line-n when the page defines it, else --chart-line
  const line = (n) => (n > 1 && value(`--chart-line-${n}`)) || value("--chart-line");
  return { grid: value("--chart-grid"), axis: value("--chart-axis"), line };
}

const charts = new Map();
const resizer = new ResizeObserver((entries) => {
  for (const entry of entries) {
    const chart = charts.get(entry.target);
    if (chart) chart.setSize({ width: entry.contentRect.width, height: chart.height });
  }
});

async function drawChart(el) {
  if (!window.uPlot) return;
  const answer = await fetch(el.dataset.chart, { credentials: "same-origin" });
  if (!answer.ok) return;
  const data = await answer.json();
  const colours = themeColours();
  const axis = { stroke: colours.axis, grid: { stroke: colours.grid }, ticks: { stroke: colours.grid } };
  // the value axis as wide as its longest label (uPlot's fixed 50 px cuts "40,000" off)
  const widest = (values) => Math.max(0, ...(values || []).map((v) => String(v).length));
  const log = Boolean(data.log);
  // on a log scale only the powers of ten get a tick, a grid line and a label (not 2..9 between them)
  const decades = (u, splits) => splits.map((v) => (Math.abs(Math.log10(v) % 1) < 1e-9 ? v : null));
  const valueAxis = { ...axis, size: (u, values) => Math.max(50, 14 + 8 * widest(values)),
    ...(log ? { filter: decades, grid: { ...axis.grid, filter: decades }, ticks: { ...axis.ticks, filter: decades } }
      : {}) };
  const values = data.series.map((s) => (log ? s.values.map((v) => (v > 0 ? v : null)) : s.values));
  const options = {
    width: el.clientWidth || 600,
    height: el.clientHeight || 200,
    // a dash pattern per series too: colour is never the only difference
    // points too: a day between two idle days is a point, not a line
    series: [{}, ...data.series.map((s, i) => ({ label: s.label, stroke: colours.line(i + 1), width: 2,
      dash: i ? [2 * i + 2, 3] : undefined, points: { show: true, size: 6, fill: colours.line(i + 1) } }))],
    axes: [axis, valueAxis],
    scales: log ? { y: { distr: 3, log: 10 } } : {},
  };
  charts.get(el)?.destroy();
  el.replaceChildren();
  const chart = new window.uPlot(options, [data.x, ...values], el);
  charts.set(el, chart);
}

// every chart (a colour-scheme change), or with onlyNew those not drawn yet (after an htmx swap)
function drawCharts(onlyNew = false) {
  for (const [el, chart] of charts) {
    if (!el.isConnected) {  // swapped out by htmx
      chart?.destroy();
      charts.delete(el);
      resizer.unobserve(el);
    }
  }
  for (const el of document.querySelectorAll(".chart[data-chart]")) {
    if (onlyNew && charts.has(el)) continue;
    charts.set(el, null);
    drawChart(el).catch(() => {});
    resizer.observe(el);
  }
}

function start() {
  document.body.addEventListener("htmx:configRequest", (event) => {
    event.detail.headers["X-WK-UI"] = "1";
  });
  document.body.addEventListener("htmx:afterSettle", (event) => {
    renderTimes(event.target);
    drawCharts(true);
  });
  document.body.addEventListener("htmx:sseError", () => checkSession());
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "hidden") disconnectLive();
    else connectLive();
  });
  matchMedia("(prefers-color-scheme: dark)").addEventListener("change", () => drawCharts());
  renderTimes();
  setInterval(() => renderTimes(), 30000);
  if (document.visibilityState !== "hidden") connectLive();
  drawCharts();
}

if (window.htmx) start();
else window.addEventListener("DOMContentLoaded", start);
