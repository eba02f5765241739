// Wall controls: desk/TV mode, TV layouts, photos, fullscreen and help, from the keyboard
// (the original Micboard's keys) or the on-screen toolbar. The display state lives in the
// URL hash, so a wall screen or kiosk can be bookmarked straight into TV mode.
(function () {
  "use strict";

  const wall = document.getElementById("wall");
  if (!wall) {
    return;
  }
  const help = document.getElementById("help");
  const LAYOUTS = ["11", "00", "01", "10"]; // name + colour block + meters; see original §1.10
  const kiosk = wall.dataset.kiosk === "true";

  function readHash() {
    const params = new URLSearchParams(window.location.hash.slice(1));
    return {
      mode: params.get("mode") === "tv" ? "tv" : "desk",
      layout: LAYOUTS.includes(params.get("layout")) ? params.get("layout") : "11",
      photos: params.get("photos") === "1",
    };
  }

  let display = readHash();

  function apply() {
    wall.dataset.mode = display.mode;
    wall.dataset.layout = display.layout;
    wall.dataset.photos = display.photos ? "on" : "off";
    document.body.classList.toggle("tv", display.mode === "tv");
    press("tv", display.mode === "tv");
    press("photos", display.photos);
    document.dispatchEvent(new Event("micboard:layout"));
  }

  function save() {
    const params = new URLSearchParams();
    if (display.mode === "tv") {
      params.set("mode", "tv");
    }
    if (display.layout !== "11") {
      params.set("layout", display.layout);
    }
    if (display.photos) {
      params.set("photos", "1");
    }
    const hash = params.toString();
    window.history.replaceState(null, "", hash ? "#" + hash : window.location.pathname + window.location.search);
    apply();
  }

  function press(action, on) {
    const button = wall.querySelector('[data-action="' + action + '"]');
    if (button) {
      button.setAttribute("aria-pressed", on ? "true" : "false");
    }
  }

  const actions = {
    tv() {
      display.mode = display.mode === "tv" ? "desk" : "tv";
      if (display.mode === "desk") {
        display.photos = false; // leaving TV mode turns photo backgrounds off, as in the original
      }
      save();
    },
    layout() {
      display.mode = "tv";
      display.layout = LAYOUTS[(LAYOUTS.indexOf(display.layout) + 1) % LAYOUTS.length];
      save();
    },
    photos() {
      if (display.mode === "tv") {
        display.photos = !display.photos;
        save();
      }
    },
    fullscreen() {
      if (document.fullscreenElement) {
        document.exitFullscreen();
      } else if (document.documentElement.requestFullscreen) {
        document.documentElement.requestFullscreen().catch(() => {});
      }
    },
    help() {
      help.hidden = !help.hidden;
      const button = wall.querySelector('[data-action="help"]');
      if (button) {
        button.setAttribute("aria-expanded", help.hidden ? "false" : "true");
      }
    },
    alerts() {
      // The list opens over the wall, so opening it never moves a tile either.
      const strip = wall.querySelector(".alert-strip");
      const open = strip.dataset.open !== "true";
      strip.dataset.open = open ? "true" : "false";
      strip.querySelector('[data-action="alerts"]').setAttribute("aria-expanded", open ? "true" : "false");
    },
    qr() {
      const panel = document.getElementById("qr");
      panel.hidden = !panel.hidden;
      const button = wall.querySelector('[data-action="qr"]');
      if (button) {
        button.setAttribute("aria-expanded", panel.hidden ? "false" : "true");
      }
    },
    reveal() {
      wall.classList.toggle("controls-shown");
    },
    mark() {
      // One key marks the timeline now; the label field is optional (typing in it, the
      // key is a letter and Enter submits).
      const form = wall.querySelector(".marker-form");
      if (form) {
        form.requestSubmit();
      }
    },
    handOver() {
      const button = handOverTarget();
      if (button) {
        button.click();
      }
    },
    unchecked() {
      const on = !wall.classList.contains("show-unchecked");
      wall.classList.toggle("show-unchecked", on);
      press("unchecked", on);
    },
    escape() {
      if (wall.querySelector(".alert-strip").dataset.open === "true") {
        actions.alerts();
      } else if (!document.getElementById("qr").hidden) {
        actions.qr();
      } else if (!help.hidden) {
        actions.help();
      } else if (display.mode === "tv") {
        actions.tv();
      }
    },
  };

  const KEYS = {
    t: "tv",
    f: "fullscreen",
    i: "layout",
    g: "photos",
    m: "mark",
    h: "handOver",
    u: "unchecked",
    a: "alerts",
    q: "qr",
    "?": "help",
    Escape: "escape",
  };

  // `h` hands over the shared tile the tech is on: the focused one, else the one under the
  // pointer, else the only shared tile of the wall (a show often passes just one handheld).
  let pointed = null;
  wall.addEventListener("pointerover", (event) => {
    pointed = event.target.closest(".tile");
  });

  function handOverTarget() {
    const focused = document.activeElement && document.activeElement.closest(".tile");
    for (const tile of [focused, pointed]) {
      const button = tile && tile.isConnected && tile.querySelector("[data-hand-over]");
      if (button) {
        return button;
      }
    }
    const buttons = wall.querySelectorAll("[data-hand-over]");
    return buttons.length === 1 ? buttons[0] : null;
  }

  // A refused hand-over (someone was quicker, or nobody is next) answers 409 or 400 with
  // words: show them in the status line instead of dropping them, as htmx does for errors.
  document.body.addEventListener("htmx:beforeSwap", (event) => {
    const status = event.detail.xhr.status;
    const source = event.detail.requestConfig && event.detail.requestConfig.elt;
    if (source && source.matches("[data-hand-over]") && (status === 400 || status === 409)) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });

  function typing(target) {
    return target.closest("input, textarea, select, [contenteditable]") !== null;
  }

  function follow(link) {
    // Keep the display mode when switching walls.
    window.location.href = link.getAttribute("href") + window.location.hash;
  }

  document.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) {
      return;
    }
    if (KEYS[event.key]) {
      event.preventDefault();
      actions[KEYS[event.key]]();
      return;
    }
    if (kiosk) {
      return; // a kiosk is bound to one group and has no other pages
    }
    const link = event.key === "0" ? document.querySelector(".brand") : wall.querySelector('[data-key="' + event.key + '"]');
    if (link) {
      event.preventDefault();
      follow(link);
    }
  });

  // On a phone the tiles are bars without details: the first tap on one opens its details
  // (time left, RF, audio) in place, closing any other; only the next tap leaves the wall.
  const phone = window.matchMedia("(max-width: 512px)");
  wall.addEventListener("click", (event) => {
    const tile = event.target.closest(".tile[data-unit]");
    if (!phone.matches || !tile || tile.dataset.expanded === "true") {
      return;
    }
    event.preventDefault();
    for (const open of wall.querySelectorAll('.tile[data-expanded="true"]')) {
      delete open.dataset.expanded;
    }
    tile.dataset.expanded = "true";
    document.dispatchEvent(new Event("micboard:layout")); // size its chart now it shows
  });

  wall.addEventListener("click", (event) => {
    const button = event.target.closest("[data-action]");
    if (button && actions[button.dataset.action]) {
      actions[button.dataset.action]();
    }
  });

  window.addEventListener("hashchange", () => {
    display = readHash();
    apply();
  });

  apply();
})();
