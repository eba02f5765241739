// Live wall: applies the frames of docs/live-protocol.md to the tiles rendered by the server.
//
// One WebSocket per wall. JSON frames (snapshot, delta, alert, structure) update an in-memory
// map of unit states; the DOM is written at most once per animation frame, and only where a
// shown value changed. Meters are CSS custom properties set on the meter element itself.
// HTML frames and re-fetched tiles are swapped out-of-band by id through htmx.
(function () {
  "use strict";

  const wall = document.getElementById("wall");
  if (!wall) {
    return;
  }

  const WATCHDOG_MS = 10000; // the server sends a snapshot every 5 s, so 10 s of silence is a dead link
  const BACKOFF_BASE_MS = 500;
  const BACKOFF_MAX_MS = 30000;
  const CHART_WINDOW_MS = 15000; // about as fast as the original's scrolling chart
  const PEAK_HOLD_MS = 2000;
  const kiosk = wall.dataset.kiosk === "true";

  const statusLabels = JSON.parse(document.getElementById("status-labels").textContent);
  // Formatting, meter ranges and close codes come from the server (wall_rules in
  // dashboard/templatetags/micboard_display.py), so live values read as the server renders.
  const rules = JSON.parse(document.getElementById("wall-rules").textContent);
  const METERS = rules.meters;
  const BATTERY = rules.battery;
  const PROJECTION = rules.projection;
  const clock = new Intl.DateTimeFormat("en-GB", {
    hour: "2-digit",
    minute: "2-digit",
    hourCycle: "h23",
    timeZone: PROJECTION.time_zone,
  });
  const CLOSE = rules.close; // codes by name, and `messages`: why the wall stops, per final code
  // A unit's state is restated by the poller every few seconds even when nothing changes,
  // so one older than this (by the server's clock: the page says what time it is there)
  // comes from a poller that stopped: the tile greys out and says how old it is.
  const STALE_AFTER_S = rules.stale_after;
  const clockOffsetS = rules.server_time - Date.now() / 1000;
  const connectionText = document.querySelector("#connection .connection-text");
  const blocked = wall.querySelector(".wall-blocked");

  const units = new Map(); // unit id -> latest UnitState
  const dirty = new Set(); // unit ids whose tile needs drawing
  const views = new Map(); // unit id -> TileView
  const charts = new Map(); // unit id -> [{t, rf, audio}], survives tile swaps
  const visible = new Set(); // unit ids whose tile is on screen
  let frameRequested = false;
  let socket = null;
  let lastSeq = null;
  let doubted = false; // an older snapshot was dropped and the current one asked for
  let attempt = 0;
  let watchdog = null;
  let stopped = false;
  let connectedBefore = false;

  // ---- formatting: applies the server's rules, as Readout.text and BatteryGauge do ------------

  function readout(value, rule) {
    if (value === null || value === undefined || (rule.zero_is_unknown && !value)) {
      return "";
    }
    if (rule.style === "clock") {
      const minutes = Math.trunc(value);
      const rest = ((minutes % 60) + 60) % 60; // Python's % never goes negative
      return Math.floor(minutes / 60) + ":" + (rest < 10 ? "0" : "") + rest + rule.suffix;
    }
    const scaled = value / rule.scale;
    if (rule.style === "fixed") {
      return scaled.toFixed(rule.digits) + rule.suffix;
    }
    // printf's %g: significant digits, then no trailing zeros (Number drops them).
    return String(Number(scaled.toPrecision(rule.digits))) + rule.suffix;
  }

  function fraction(value, scale) {
    if (value === null || value === undefined) {
      return 0;
    }
    return Math.min(1, Math.max(0, (value - scale.floor) / (scale.ceil - scale.floor)));
  }

  function batteryBars(state) {
    if (state.bars !== null && state.bars !== undefined) {
      return Math.min(state.bars, BATTERY.segments);
    }
    if (state.percent !== null && state.percent !== undefined) {
      return Math.min(BATTERY.segments, Math.ceil(state.percent / BATTERY.percent_per_segment));
    }
    return null;
  }

  function ageText(seconds) {
    if (seconds < 60) {
      return Math.floor(seconds) + " s";
    }
    return seconds < 3600 ? Math.floor(seconds / 60) + " min" : Math.floor(seconds / 3600) + " h";
  }

  function batteryLabel(bars) {
    if (bars === null) {
      return BATTERY.unknown_label;
    }
    return BATTERY.label.replace("{bars}", bars).replace("{segments}", BATTERY.segments);
  }

  // As BatteryProjection.warning: the estimate counts from the reading it came with.
  function projectionText(state, showEnds) {
    if (state.minutes === null || state.minutes === undefined || !state.ts || !showEnds) {
      return "";
    }
    const empty = state.ts + state.minutes * 60;
    if (empty >= showEnds) {
      return "";
    }
    const at = (seconds) => clock.format(new Date(Math.floor(seconds) * 1000));
    return PROJECTION.text.replace("{empty}", at(empty)).replace("{show_end}", at(showEnds));
  }

  // ---- one tile's elements, and what was last written to each -------------------------------

  class TileView {
    constructor(root) {
      this.root = root;
      this.last = {};
      this.held = { peak: METERS.audio.floor, until: 0 };
      const find = (selector) => root.querySelector(selector);
      this.info = find(".tile-info");
      this.label = find('[data-field="label"]');
      this.glyph = find('[data-field="glyph"]');
      this.battery = find(".battery");
      this.readouts = Object.entries(rules.readouts).map(([field, rule]) => ({
        field: field,
        rule: rule,
        element: find('[data-field="' + field + '"]'),
      }));
      this.quality = find(".quality");
      this.qualityText = find('[data-field="quality"]');
      this.audio = find('[data-meter="audio"]');
      this.rfA = find('[data-meter="rf_a"]');
      this.rfB = find('[data-meter="rf_b"]');
      this.diversity = find(".diversity");
      this.channel = find('[data-field="channel"]');
      this.projection = find('[data-field="projection"]');
      this.showEnds = Number(this.projection.dataset.showEnds) || null; // a new end re-renders every tile
      this.canvas = find("canvas.chart");
    }

    // Write `value` with `write` only when it differs from what this element shows.
    put(key, value, write) {
      if (this.last[key] !== value) {
        this.last[key] = value;
        write(value);
      }
    }

    // Meters change ten times a second; off-screen tiles skip them (the tile is redrawn in
    // full when it scrolls into view), so a 500-tile wall costs what its visible part does.
    draw(state, now, onScreen) {
      if (!state) {
        this.put("age", "", (v) => (this.info.dataset.age = v));
        this.put("stale", "true", (v) => (this.root.dataset.stale = v));
        return;
      }
      const info = statusLabels[state.status] || statusLabels.UNASSIGNED;
      const status = statusLabels[state.status] ? state.status : "UNASSIGNED";
      const bars = batteryBars(state);
      const age = now / 1000 + clockOffsetS - state.ts;
      const stale = age > STALE_AFTER_S;
      this.put("age", stale ? ageText(age) : "", (v) => (this.info.dataset.age = v));
      this.put("stale", stale ? "true" : "false", (v) => (this.root.dataset.stale = v));
      this.put("status", status, (v) => (this.root.dataset.status = v));
      this.put("label", info.label, (v) => (this.label.textContent = v));
      this.put("glyph", info.glyph, (v) => (this.glyph.textContent = v));
      this.put("bars", bars === null ? "" : String(bars), (v) => {
        this.battery.dataset.bars = v;
        this.battery.setAttribute("aria-label", batteryLabel(bars));
      });
      this.put("projection", projectionText(state, this.showEnds), (v) => (this.projection.textContent = v));
      for (const { field, rule, element } of this.readouts) {
        this.put(field, readout(state[rule.source], rule), (v) => (element.textContent = v));
      }
      const quality = state.quality === null || state.quality === undefined ? "" : String(Math.round(state.quality / 20));
      this.put("quality", quality, (v) => {
        this.quality.dataset.quality = v;
        this.qualityText.textContent = v === "" ? "" : "Quality " + state.quality + "%";
      });
      // A frame without `name` keeps the one shown; `null` means the receiver has none.
      if (state.name !== undefined) {
        this.put("channel", state.name || "", (v) => (this.channel.textContent = v));
      }
      this.put("antenna", state.antenna || "", (v) => (this.diversity.dataset.antenna = v));
      // One RF meter where the receiver gives one level; kept while it gives none (off).
      if (state.rf_a !== null && state.rf_a !== undefined) {
        this.put("rf", state.rf_b === null || state.rf_b === undefined ? "1" : "2", (v) => (this.root.dataset.rf = v));
      }
      this.put("clip", state.clip ? "true" : "false", (v) => (this.audio.dataset.clip = v));
      const peak = this.hold(state.peak, now);
      if (!onScreen) {
        return;
      }
      this.meter(this.rfA, "rfA", fraction(state.rf_a, METERS.rf));
      this.meter(this.rfB, "rfB", fraction(state.rf_b, METERS.rf));
      this.meter(this.audio, "audio", fraction(state.audio, METERS.audio));
      this.meter(this.audio, "peak", fraction(peak, METERS.audio), "--peak");
    }

    meter(element, key, level, property) {
      const rounded = Math.round(level * 200) / 200; // half-percent steps: no needless writes
      this.put(key, rounded, (v) => element.style.setProperty(property || "--level", v));
    }

    // Peak hold: keep the highest peak for a moment, like a desk's meter bridge.
    hold(peak, now) {
      if (peak === null || peak === undefined) {
        return this.held.peak;
      }
      if (peak >= this.held.peak || now > this.held.until) {
        this.held = { peak: peak, until: now + PEAK_HOLD_MS };
      }
      return this.held.peak;
    }
  }

  // ---- drawing, once per animation frame -------------------------------------------------------

  function schedule() {
    if (!frameRequested) {
      frameRequested = true;
      window.requestAnimationFrame(drawFrame);
    }
  }

  function drawFrame() {
    frameRequested = false;
    const now = Date.now();
    for (const id of dirty) {
      const view = views.get(id);
      if (view) {
        const onScreen = visible.has(id);
        view.draw(units.get(id), now, onScreen);
        if (onScreen) {
          drawChart(view, charts.get(id) || [], now);
        }
      }
    }
    dirty.clear();
  }

  function remember(id, state) {
    const points = charts.get(id) || [];
    const t = state.ts ? state.ts * 1000 : Date.now();
    const rf = Math.max(fraction(state.rf_a, METERS.rf), fraction(state.rf_b, METERS.rf));
    points.push({ t: t, rf: rf, audio: fraction(state.audio, METERS.audio) });
    while (points.length && points[0].t < t - CHART_WINDOW_MS) {
      points.shift();
    }
    charts.set(id, points);
  }

  // The scrolling chart: audio in the upper half, RF in the lower half, the newest point at
  // the right edge, as the original's chart drew them.
  function drawChart(view, points, now) {
    const canvas = view.canvas;
    if (!canvas || !canvas.width) {
      return;
    }
    const context = canvas.getContext("2d");
    const width = canvas.width;
    const half = canvas.height / 2;
    context.clearRect(0, 0, width, canvas.height);
    trace(context, points, now, width, half, 0, "audio", "#69b578");
    trace(context, points, now, width, half, half, "rf", "#dc493a");
  }

  function trace(context, points, now, width, height, top, key, colour) {
    context.beginPath();
    context.strokeStyle = colour;
    context.lineWidth = Math.max(1, window.devicePixelRatio || 1);
    points.forEach((point, index) => {
      const x = width - ((now - point.t) / CHART_WINDOW_MS) * width;
      const y = top + height - point[key] * (height - 2) - 1;
      if (index === 0) {
        context.moveTo(x, y);
      } else {
        context.lineTo(x, y);
      }
    });
    context.stroke();
  }

  // Keeps charts scrolling while no new points arrive.
  function scrollCharts() {
    for (const id of visible) {
      dirty.add(id);
    }
    schedule();
  }

  // ---- tiles on the page -----------------------------------------------------------------------

  const observer = new IntersectionObserver((entries) => {
    for (const entry of entries) {
      const id = Number(entry.target.dataset.unit);
      if (entry.isIntersecting) {
        visible.add(id);
        dirty.add(id);
      } else {
        visible.delete(id);
      }
    }
    schedule();
  });

  // (Re)read the tiles after the server rendered or swapped them, and redraw them all.
  function bindTiles() {
    observer.disconnect();
    views.clear();
    visible.clear();
    for (const root of wall.querySelectorAll(".tile[data-unit]")) {
      const id = Number(root.dataset.unit);
      const view = new TileView(root);
      sizeCanvas(view.canvas);
      views.set(id, view);
      observer.observe(root);
      dirty.add(id);
    }
    schedule();
  }

  // Match the canvas to its box in device pixels; resizing clears it, so only on change.
  function sizeCanvas(canvas) {
    if (!canvas) {
      return;
    }
    const ratio = window.devicePixelRatio || 1;
    const width = Math.round(canvas.clientWidth * ratio);
    const height = Math.round(canvas.clientHeight * ratio);
    if (canvas.width !== width || canvas.height !== height) {
      canvas.width = width;
      canvas.height = height;
    }
  }

  let resizeTimer = null;
  window.addEventListener("resize", () => {
    window.clearTimeout(resizeTimer);
    resizeTimer = window.setTimeout(() => {
      for (const [id, view] of views) {
        sizeCanvas(view.canvas);
        dirty.add(id);
      }
      schedule();
    }, 150);
  });
  // Desk/TV mode and layouts change tile sizes without a window resize.
  document.addEventListener("micboard:layout", () => window.dispatchEvent(new Event("resize")));

  // ---- frames ------------------------------------------------------------------------------------

  function setUnit(id, state) {
    units.set(id, state);
    remember(id, state);
    dirty.add(id);
  }

  function applySnapshot(frame) {
    if (lastSeq !== null && frame.seq < lastSeq && !doubted) {
      // Older than what the wall shows: read before frames already applied (a socket's
      // snapshot racing the poller's after Redis returns). Ask for the current one; if
      // that is older too, the counter restarted (Redis lost its data) and it is taken.
      doubted = true;
      send({ type: "resync" });
      return;
    }
    doubted = false;
    lastSeq = frame.seq;
    attempt = 0;
    const seen = new Set();
    for (const [key, state] of Object.entries(frame.units || {})) {
      const id = Number(key);
      seen.add(id);
      setUnit(id, state);
    }
    for (const id of views.keys()) {
      if (!seen.has(id)) {
        units.delete(id); // no live data for this unit: its tile shows as stale
        dirty.add(id);
      }
    }
    showConnection("live", "Live");
    schedule();
  }

  function applyDelta(frame) {
    if (lastSeq === null || frame.seq <= lastSeq) {
      return; // before the first snapshot, or old news
    }
    if (frame.seq > lastSeq + 1) {
      send({ type: "resync" }); // a frame was lost: the snapshot heals it
    }
    lastSeq = frame.seq;
    for (const [key, state] of Object.entries(frame.units || {})) {
      setUnit(Number(key), state);
    }
    schedule();
  }

  function handleText(text) {
    if (text.charAt(0) !== "{") {
      swapHtml(text);
      return;
    }
    let frame;
    try {
      frame = JSON.parse(text);
    } catch (error) {
      return;
    }
    if (frame.type === "snapshot") {
      applySnapshot(frame);
    } else if (frame.type === "delta") {
      applyDelta(frame);
    } else if (frame.type === "alert") {
      showAlert(frame.alert);
    } else if (frame.type === "alert.acknowledged" || frame.type === "alert.resolved") {
      clearAlert(frame.alert);
    } else if (frame.type === "structure") {
      refresh(frame.units);
    }
  }

  // ---- the socket ----------------------------------------------------------------------------------

  function socketUrl() {
    const scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
    return scheme + window.location.host + wall.dataset.liveUrl;
  }

  function connect() {
    if (stopped) {
      return;
    }
    const ws = new WebSocket(socketUrl());
    socket = ws;
    ws.onopen = () => armWatchdog(ws);
    ws.onmessage = (event) => {
      armWatchdog(ws);
      if (typeof event.data === "string") {
        handleText(event.data);
      }
    };
    ws.onclose = (event) => closed(ws, event.code);
    armWatchdog(ws);
  }

  function closed(ws, code) {
    if (ws !== socket) {
      return; // a socket the watchdog already gave up on
    }
    socket = null;
    window.clearTimeout(watchdog);
    markStale();
    if (CLOSE.messages[code]) {
      stopWith(CLOSE.messages[code]);
      return;
    }
    reconnectLater();
  }

  function reconnectLater() {
    // Full jitter, so a room of kiosks does not reconnect in lockstep after a restart.
    const ceiling = Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * Math.pow(2, attempt));
    const delay = BACKOFF_BASE_MS / 2 + Math.random() * ceiling;
    attempt += 1;
    showConnection("reconnecting", "Reconnecting…");
    window.setTimeout(reconnect, delay);
  }

  function reconnect() {
    connectedBefore = true;
    connect();
  }

  function armWatchdog(ws) {
    window.clearTimeout(watchdog);
    watchdog = window.setTimeout(() => {
      // Nothing for too long: the link is dead even if the browser has not noticed.
      socket = null;
      ws.onclose = null;
      ws.close();
      markStale();
      reconnectLater();
    }, WATCHDOG_MS);
  }

  function send(frame) {
    if (socket && socket.readyState === WebSocket.OPEN) {
      socket.send(JSON.stringify(frame));
    }
  }

  // Stale values must never look live: the wall greys out until the next snapshot.
  function markStale() {
    lastSeq = null;
    doubted = false;
    if (wall.dataset.state === "live") {
      showConnection("reconnecting", "Reconnecting…");
    }
  }

  function showConnection(state, text) {
    const becameLive = state === "live" && wall.dataset.state !== "live";
    wall.dataset.state = state;
    if (connectionText.textContent !== text) {
      connectionText.textContent = text;
    }
    if (becameLive && connectedBefore) {
      connectedBefore = false;
      refresh(null); // the wall may have changed while we were away
    }
  }

  // ---- structure: re-fetch tiles over HTTP and swap them in by id --------------------------------

  let fetching = false;
  let pending = undefined; // undefined: nothing waiting; null: the whole grid; Set: these units

  function refresh(unitIds) {
    if (unitIds === null || pending === null) {
      pending = null;
    } else {
      pending = pending || new Set();
      unitIds.forEach((id) => pending.add(id));
    }
    if (!fetching) {
      fetchPending(0);
    }
  }

  function fetchPending(tries) {
    if (pending === undefined) {
      return;
    }
    const wanted = pending;
    const grid = wanted === null || [...wanted].some((id) => !views.has(id));
    pending = undefined;
    fetching = true;
    const query = grid ? "" : "?units=" + [...wanted].join(",");
    fetch(wall.dataset.tilesUrl + query, {
      credentials: "same-origin",
      headers: { "HX-Request": "true" },
      redirect: "manual",
    })
      .then((response) => fragmentText(response))
      .then((html) => {
        fetching = false;
        swapHtml(html);
        if (!grid && [...wanted].some((id) => !views.has(id))) {
          refresh(null); // a unit left the wall: the grid decides where the rest go
          return;
        }
        if ([...views.keys()].some((id) => !units.has(id))) {
          send({ type: "resync" }); // new tiles: get their live values now, not in 5 s
        }
        fetchPending(0);
      })
      .catch((error) => {
        if (error && error.final) {
          fetching = false;
          return;
        }
        // The server is restarting or the network blinked: keep trying, never give up.
        pending = grid || pending === null ? null : new Set([...(pending || []), ...wanted]);
        const delay = Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * Math.pow(2, tries));
        window.setTimeout(() => {
          fetching = false;
          fetchPending(tries + 1);
        }, delay);
      });
  }

  function fragmentText(response) {
    if (response.type === "opaqueredirect" || response.status === 401 || response.status === 403) {
      stopWith(CLOSE.messages[kiosk ? CLOSE.KIOSK_REVOKED : CLOSE.NOT_SIGNED_IN]);
    } else if (response.status === 404 || response.status === 410) {
      stopWith(CLOSE.messages[kiosk ? CLOSE.KIOSK_REVOKED : CLOSE.NO_ACCESS]);
    } else if (response.ok) {
      return response.text();
    }
    const error = new Error("tiles request failed with " + response.status);
    error.final = stopped;
    throw error;
  }

  function stopWith(message) {
    stopped = true;
    if (socket) {
      socket.onclose = null;
      socket.close();
      socket = null;
    }
    window.clearTimeout(watchdog);
    showConnection("blocked", message);
    blocked.textContent = message;
    blocked.hidden = false;
  }

  // Every top-level element with an id replaces the element with that id, as the htmx ws
  // extension does with socket messages, whether or not it says hx-swap-oob itself.
  function swapHtml(html) {
    const template = document.createElement("template");
    template.innerHTML = html;
    for (const element of template.content.children) {
      if (element.id && !element.hasAttribute("hx-swap-oob")) {
        element.setAttribute("hx-swap-oob", "true");
      }
    }
    window.htmx.swap(wall, template.innerHTML, { swapStyle: "none" });
    bindTiles();
  }

  // ---- alerts ------------------------------------------------------------------------------------

  function showAlert(alert) {
    const id = "alert-" + alert.id;
    if (document.getElementById(id)) {
      return;
    }
    const toast = document.getElementById("alert-toast-template").content.firstElementChild.cloneNode(true);
    toast.id = id;
    toast.classList.add("severity-" + alert.severity);
    toast.dataset.severity = alert.severity;
    toast.dataset.unit = alert.unit;
    const badge = toast.querySelector(".badge");
    badge.classList.add("severity-" + alert.severity);
    badge.textContent = capitalised(alert.severity);
    toast.querySelector(".toast-message").textContent = alert.message;
    const time = toast.querySelector(".toast-time");
    const raised = new Date(alert.created_at);
    if (!Number.isNaN(raised.getTime())) {
      time.dateTime = alert.created_at;
      time.textContent = raised.toTimeString().slice(0, 5);
    }
    const button = toast.querySelector("button[data-ack-url]");
    if (button) {
      button.setAttribute("hx-post", button.dataset.ackUrl.replace("/0/", "/" + alert.id + "/"));
      button.setAttribute("hx-target", "#" + id);
    }
    document.getElementById("alerts").prepend(toast);
    window.htmx.process(toast);
  }

  // The strip's one line: how many alerts are open and the most severe (the newest of
  // those, as toasts are newest first). Kept from the list itself, whoever changed it: a
  // frame, an acknowledgement's swap or a swapped-in list.
  const strip = wall.querySelector(".alert-strip");
  const SEVERITIES = rules.severities; // least to most severe

  function summarise() {
    const toasts = [...strip.querySelectorAll(".toast")];
    let worst = null;
    for (const toast of toasts) {
      if (!worst || SEVERITIES.indexOf(toast.dataset.severity) > SEVERITIES.indexOf(worst.dataset.severity)) {
        worst = toast;
      }
    }
    const put = (element, text) => element.textContent !== text && (element.textContent = text);
    put(strip.querySelector(".alert-count"), String(toasts.length));
    put(strip.querySelector(".alert-worst"), worst ? worst.querySelector(".toast-message").textContent : "No open alerts");
    strip.dataset.count = String(toasts.length);
    strip.dataset.worst = worst ? worst.dataset.severity : "";
  }

  // Its own writes are a change too, but write only what differs, so this settles at once.
  new MutationObserver(summarise).observe(strip, { childList: true, subtree: true });

  function capitalised(word) {
    const text = String(word || "");
    return text.charAt(0).toUpperCase() + text.slice(1);
  }

  function clearAlert(alert) {
    const toast = document.getElementById("alert-" + alert.id);
    if (toast) {
      toast.remove();
    }
  }

  // ---- kiosks keep the screen on ---------------------------------------------------------------

  function keepAwake() {
    if (!navigator.wakeLock || document.visibilityState !== "visible") {
      return;
    }
    navigator.wakeLock.request("screen").catch(() => {
      // Refused (battery saver, no user gesture yet): the screen may dim, nothing else breaks.
    });
  }

  if (kiosk) {
    keepAwake();
    document.addEventListener("visibilitychange", keepAwake);
  }

  summarise();
  bindTiles();
  window.setInterval(scrollCharts, 1000);
  connect();
})();
