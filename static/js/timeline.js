// The timeline page: one uPlot chart per unit (RF A/B, audio, battery), a shared x range
// (zoom by dragging or the buttons, pan, spans from 7 days to a minute), a cursor synced
// across every chart whose legends read each lane at that instant, event bands and
// markers, and a live edge that follows now. Data comes from the page's JSON endpoint.
(() => {
  "use strict";

  const root = document.getElementById("timeline");
  if (!root || typeof uPlot === "undefined") {
    return;
  }
  const units = JSON.parse(document.getElementById("timeline-units").textContent);
  const rangeText = root.querySelector(".timeline-range");
  const eventRows = root.querySelector(".timeline-events tbody");
  const LIVE_EVERY = 5000; // ms between refreshes at the live edge
  const SMALLEST = 10; // s: the narrowest range a zoom goes to
  const PREFETCH_LEVELS = 3; // zoom-ins looked ahead for the first the charts do not hold
  const COLOURS = {
    dropout: "rgba(220, 40, 40, 0.28)",
    tx_off: "rgba(120, 120, 120, 0.25)",
    rx_offline: "rgba(200, 120, 0, 0.28)",
    clip: "rgba(255, 0, 160, 0.5)",
    battery_swap: "rgba(0, 150, 60, 0.9)",
    alert: "rgba(230, 170, 0, 0.22)",
    marker: "rgba(40, 90, 220, 0.9)",
  };
  const charts = new Map();
  let range = { end: Date.now() / 1000, span: 3600 };
  let live = true;
  let events = [];
  let loading = 0;
  let draws = 0;
  let loaded = null; // {start, end, step}: what the charts hold (more than they show, off the live edge)
  let rules = null; // how the server picks a range's step (query.step_rules)
  let aheadAsked = 0;
  let ahead = null; // {start, end, step, answer}: the next zoom-in's finer points, asked in the background

  function options(width) {
    return {
      width: width,
      height: 150,
      cursor: { sync: { key: "timeline", setSeries: false }, drag: { x: true, y: false } },
      select: { show: true },
      scales: { x: { time: true }, dbm: { range: [-100, -20] }, dbfs: { range: [-60, 0] }, pct: { range: [0, 100] } },
      series: [
        {},
        { label: "RF A dBm", scale: "dbm", stroke: "#1f77b4", width: 1 },
        { label: "RF B dBm", scale: "dbm", stroke: "#17becf", width: 1 },
        { label: "Audio dBFS", scale: "dbfs", stroke: "#9467bd", width: 1 },
        { label: "Battery %", scale: "pct", stroke: "#2ca02c", width: 2 },
      ],
      axes: [
        {},
        { scale: "dbm", label: "dBm", size: 50 },
        { scale: "pct", side: 1, label: "%", size: 40, grid: { show: false } },
      ],
      hooks: { draw: [drawEvents], setSelect: [zoomToSelection] },
    };
  }

  function seriesOf(lanes) {
    if (!lanes) {
      return [[], [], [], [], []];
    }
    return [lanes.t, lanes.rf_a, lanes.rf_b, lanes.audio, lanes.battery];
  }

  function drawEvents(chart) {
    const unitId = Number(chart.root.closest("[data-unit]").dataset.unit);
    const ctx = chart.ctx;
    const top = chart.bbox.top;
    const height = chart.bbox.height;
    ctx.save();
    for (const event of events) {
      if (event.unit !== null && event.unit !== unitId) {
        continue;
      }
      const x0 = chart.valToPos(event.start, "x", true);
      const end = event.end === null ? Date.now() / 1000 : event.end;
      const x1 = Math.max(chart.valToPos(end, "x", true), x0 + 2);
      ctx.fillStyle = COLOURS[event.kind] || "rgba(0,0,0,0.2)";
      ctx.fillRect(x0, top, x1 - x0, height);
      if (event.kind === "marker") {
        ctx.fillStyle = COLOURS.marker;
        ctx.font = `${12 * devicePixelRatio}px sans-serif`;
        ctx.fillText(event.label, x0 + 4, top + 14 * devicePixelRatio);
      }
    }
    ctx.restore();
  }

  function zoomToSelection(chart) {
    if (chart.select.width < 3) {
      return;
    }
    const start = chart.posToVal(chart.select.left, "x");
    const end = chart.posToVal(chart.select.left + chart.select.width, "x");
    chart.setSelect({ left: 0, width: 0 }, false);
    setRange(end, end - start, false);
  }

  function setRange(end, span, following) {
    range = { end: end, span: Math.max(SMALLEST, span) };
    setLive(following);
    rescale();
    if (!drawnFromHeld()) {
      load();
    }
  }

  // As query.step_for: the stored tier and the seconds per point of a view (0, 0: every reading).
  function tierAndStep(start, end) {
    const span = end - start;
    if (span <= rules.full_rate_up_to && start >= rules.full_rate_since) {
      return [0, 0];
    }
    const resolution = span <= rules.second_up_to && start >= rules.second_since ? 1 : 10;
    return [resolution, Math.max(resolution, Math.ceil(span / rules.max_points / resolution) * resolution)];
  }

  function stepFor(start, end) {
    return tierAndStep(start, end)[1];
  }

  function viewBounds() {
    const end = live ? Date.now() / 1000 : range.end;
    return [Math.floor(end - range.span), Math.ceil(end)];
  }

  // A view within what the charts hold, at the step the server would answer it with, is
  // complete once rescaled: nothing to fetch. (The live edge moves: it always asks.)
  function drawnFromHeld() {
    if (live || !loaded || !rules) {
      return false;
    }
    const [start, end] = viewBounds();
    if (start < loaded.start || end > loaded.end || stepFor(start, end) !== loaded.step) {
      return false;
    }
    ++loading; // an answer still on its way is for another range: it must not draw
    showRange(start, end, loaded.step);
    requestAnimationFrame(() => {
      root.dataset.draws = String(++draws);
      root.dataset.state = "ready";
    });
    prefetch();
    return true;
  }

  function showRange(start, end, step) {
    const points = step === 0 ? "full rate" : `${step} s points`;
    rangeText.textContent = `${formatTime(start, range.span)} – ${formatTime(end, range.span)} (${points})`;
  }

  // Show the new range at once from the points already drawn (uPlot redraws them in a few
  // ms); the finer (or wider) points replace them when they arrive.
  function rescale() {
    const end = live ? Date.now() / 1000 : range.end;
    for (const chart of charts.values()) {
      chart.setScale("x", { min: end - range.span, max: end });
    }
    root.dataset.rescales = String(Number(root.dataset.rescales || 0) + 1);
  }

  function setLive(following) {
    live = following;
    root.querySelector('[data-action="live"]').setAttribute("aria-pressed", live ? "true" : "false");
  }

  async function load() {
    const ask = ++loading;
    const end = live ? Date.now() / 1000 : range.end;
    const start = end - range.span;
    const started = performance.now();
    root.dataset.state = "loading";
    const early = fromAhead(start, end);
    let answer = early && (await early);
    if (!answer || !holds(answer, start, end, answer.body.step)) {
      answer = await fetchLanes(...lanesRange(start, end)); // not asked ahead, or the tier's edge moved
    }
    if (!answer || ask !== loading) {
      return; // a newer range was asked meanwhile: its answer draws
    }
    const body = answer.body;
    events = body.events;
    rules = body.rules;
    loaded = { start: answer.start, end: answer.end, step: body.step };
    draw(body, start, end);
    showEvents(body);
    showRange(start, end, body.step);
    root.dataset.drawMs = String(Math.round(performance.now() - started));
    root.dataset.draws = String(++draws);
    root.dataset.state = "ready";
    prefetch();
  }

  // What to ask for a view [start, end): [from, to, view], as fetchBounds widens it.
  function lanesRange(start, end) {
    const view = Math.ceil(end) - Math.floor(start);
    return [...fetchBounds(start, end, view), view];
  }

  async function fetchLanes(from, to, view) {
    const url = `${root.dataset.dataUrl}?start=${from}&end=${to}&view=${view}`;
    const response = await fetch(url, { headers: { Accept: "application/json" } });
    return response.ok ? { start: from, end: to, body: await response.json() } : null;
  }

  // Whether points held at `step` over held.start..held.end are those of the view [start, end).
  function holds(held, start, end, step) {
    return start >= held.start && end <= held.end && stepFor(Math.floor(start), Math.ceil(end)) === step;
  }

  // The answer asked ahead, when it is for this view (arrived or still on its way).
  function fromAhead(start, end) {
    if (live || !ahead || !rules || !holds(ahead, start, end, ahead.step)) {
      return null;
    }
    const answer = ahead.answer;
    ahead = null;
    return answer;
  }

  // After each draw off the live edge, ask in the background for the points of the first
  // of the next zoom-ins that the charts do not hold (a finer tier or step): answering such
  // a zoom is most of a second of server and JSON, and the user need not wait for it.
  function prefetch() {
    if (live || !rules || !loaded) {
      return;
    }
    let [end, span] = [range.end, range.span];
    for (let level = 0; level < PREFETCH_LEVELS; ++level) {
      [end, span] = zoomedIn(end, span);
      const start = end - span;
      if (ahead && holds(ahead, start, end, ahead.step)) {
        return; // already asked
      }
      if (!holds(loaded, start, end, loaded.step)) {
        const step = stepFor(Math.floor(start), Math.ceil(end));
        const [from, to, view] = lanesRange(start, end);
        const answer = fetchLanes(from, to, view).catch(() => null);
        ahead = { start: from, end: to, step: step, answer: answer };
        const asked = ++aheadAsked;
        root.dataset.ahead = "loading";
        answer.then(() => {
          if (asked === aheadAsked) {
            root.dataset.ahead = "ready"; // for the bench: what a user pausing on a view gets
          }
        });
        return;
      }
    }
  }

  function zoomedIn(end, span) {
    return [end - span / 4, Math.max(SMALLEST, span / 2)];
  }

  // Off the live edge, fetch a view's width either side of it (at the view's step: the
  // `view` parameter), so the next pan or zoom is drawn from what is already here. Only
  // where a point is a stored one: merging three times the seconds would cost more than
  // the next step saves.
  function fetchBounds(start, end, view) {
    const [resolution, step] = rules ? tierAndStep(Math.floor(start), Math.ceil(end)) : [1, 0];
    if (live || !rules || step !== resolution) {
      return [Math.floor(start), Math.ceil(end)];
    }
    const side = ((end - start) * (rules.ahead - 1)) / 2;
    const now = Math.ceil(Date.now() / 1000);
    const to = Math.min(Math.ceil(end + side), Math.max(now, Math.ceil(end)));
    return [Math.max(Math.floor(start - side), to - rules.ahead * view), to]; // the server's limit
  }

  function draw(body, start, end) {
    for (const unit of units) {
      const section = root.querySelector(`[data-unit="${unit.id}"]`);
      const place = section.querySelector(".timeline-chart");
      const data = seriesOf(body.units[String(unit.id)]);
      let chart = charts.get(unit.id);
      if (!chart) {
        chart = new uPlot(options(place.clientWidth || 800), data, place);
        charts.set(unit.id, chart);
      } else {
        chart.setData(data, false);
      }
      chart.setScale("x", { min: start, max: end });
    }
  }

  function showEvents(body) {
    const label = new Map(units.map((u) => [u.id, u.label]));
    const rows = body.events
      .slice()
      .sort((a, b) => a.start - b.start)
      .map((event) => {
        const row = document.createElement("tr");
        row.dataset.kind = event.kind;
        row.dataset.start = String(event.start);
        row.dataset.duration = event.end === null ? "" : String(event.end - event.start);
        const cells = [
          formatTime(event.start, 3600),
          event.unit === null ? "all" : label.get(event.unit) || String(event.unit),
          event.kind === "marker" ? `Marker: ${event.label}` : event.label,
          event.end === null ? (event.kind === "marker" ? "" : "ongoing") : formatDuration(event.end - event.start),
        ];
        for (const text of cells) {
          const cell = document.createElement("td");
          cell.textContent = text;
          row.append(cell);
        }
        row.addEventListener("click", () => {
          const end = (event.end || event.start) + 30;
          setRange(end, end - event.start + 30, false);
        });
        return row;
      });
    eventRows.replaceChildren(...rows);
  }

  function formatTime(seconds, span) {
    const date = new Date(seconds * 1000);
    const time = date.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit", hour12: false });
    return span > 86400 ? `${date.toLocaleDateString()} ${time}` : time;
  }

  function formatDuration(seconds) {
    if (seconds < 60) {
      return `${seconds.toFixed(1)} s`;
    }
    const minutes = Math.floor(seconds / 60);
    return `${minutes} min ${Math.round(seconds - minutes * 60)} s`;
  }

  const actions = {
    earlier: () => setRange(currentEnd() - range.span / 2, range.span, false),
    later: () => {
      const end = currentEnd() + range.span / 2;
      setRange(Math.min(end, Date.now() / 1000), range.span, end >= Date.now() / 1000);
    },
    "zoom-in": () => setRange(...zoomedIn(currentEnd(), range.span), false),
    "zoom-out": () => setRange(Math.min(currentEnd() + range.span / 2, Date.now() / 1000), range.span * 2, live),
    live: () => setRange(Date.now() / 1000, range.span, !live),
  };

  function currentEnd() {
    return live ? Date.now() / 1000 : range.end;
  }

  root.addEventListener("click", (event) => {
    const button = event.target.closest("button");
    if (!button) {
      return;
    }
    if (button.dataset.span) {
      setRange(Date.now() / 1000, Number(button.dataset.span), true);
    } else if (actions[button.dataset.action]) {
      actions[button.dataset.action]();
    }
  });

  window.addEventListener("resize", () => {
    for (const [unitId, chart] of charts) {
      const place = root.querySelector(`[data-unit="${unitId}"] .timeline-chart`);
      chart.setSize({ width: place.clientWidth, height: 150 });
    }
  });

  setInterval(() => {
    if (live && !document.hidden) {
      load();
    }
  }, LIVE_EVERY);
  load();
})();
