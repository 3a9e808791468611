// The GAN lab's page: live (polling the lab's server on 127.0.0.1) or, in an exported
// page (window.LAB_EXPORT set), replaying the embedded pictures with a scrubber.
"use strict";

(() => {
  const $ = (id) => document.getElementById(id);
  const SETTINGS = ["data", "loss", "lr_d", "lr_g", "k", "optimizer", "latent_dim"];
  const REMEDIES = ["label_smoothing", "instance_noise", "minibatch_stddev", "packing",
    "spectral_norm", "r1", "gradient_penalty"];
  const NUMBERS = new Set(["lr_d", "lr_g", "k", "latent_dim", "speed"]);
  let state = null, shown = -1, clicked = [], cleared = false;

  function show() {
    const on = (id) => $(id).checked;
    return { surface: on("show-surface"), dstar: on("show-dstar"), manifold: on("show-manifold"),
      arrows: on("show-arrows"), real: on("show-real"), fake: on("show-fake"),
      fixedArrows: on("fixed-arrows") };
  }

  const fmt = (v, d = 3) => (v === null || v === undefined ? "–" : Number(v).toFixed(d));

  window.labFramesDrawn = 0;   // pictures drawn so far (the benchmark counts them)

  function drawFrame(f, curves, metricCurve) {
    window.labFramesDrawn += 1;
    const scale = Draw.plane($("plane"), f, show());
    const s = f.stats || {}, m = f.metrics;
    $("status").textContent =
      `step ${f.step} (${f.kind})   loss ${f.loss}   data ${f.data.name}\n` +
      `loss_D ${fmt(s.loss_d)}   loss_G ${fmt(s.loss_g)}   D(real) ${fmt(s.d_real)}   D(fake) ${fmt(s.d_fake)}\n` +
      (m ? `modes covered ${m.modes}/${m.of}   high-quality samples ${fmt(100 * m.high_quality, 1)}%\n` : "") +
      `arrows: 90th percentile of N·|∂loss_G/∂x| = ${scale ? scale.toExponential(2) : "–"}` +
      (show().fixedArrows ? " (drawn to scale: 1 = 6% of the plane)" : " (drawn as 6% of the plane)") +
      (f.surface_kind === "score" ? "   heat map: raw score (critic value)" : "   heat map: D(x) = σ(logit)") +
      (f.d_star ? "" : "   (no D* for this loss)");
    const series = (key, name, colour) => ({ name, colour,
      values: curves.filter((c) => c.step <= f.step).map((c) => [c.step, c[key]]) });
    Draw.chart($("losses"), "losses", [series("loss_d", "loss_D", "#1b9e77"),
      series("loss_g", "loss_G", "#7b3294")]);
    const probability = f.surface_kind !== "score";
    Draw.chart($("outputs"), probability ? "mean D(x)" : "mean D score",
      [series("d_real", "D(real)", "#1b9e77"), series("d_fake", "D(fake)", "#7b3294")],
      probability ? [0, 1] : null);
    const mc = metricCurve.filter((c) => c.step <= f.step);
    Draw.chart($("modes"), f.data.modes ? `modes covered (of ${f.data.modes})` : "no modes to count for this data",
      [{ name: "modes", colour: "#d95f02", values: mc.map((c) => [c.step, c.modes]) }],
      f.data.modes ? [0, f.data.modes] : null);
    Draw.bars($("norms"), f.norms);
  }

  // -- replay of an exported page -------------------------------------------------
  function replay(data) {
    $("live-controls").hidden = true;
    $("replay-controls").hidden = false;
    $("settings").disabled = true; $("remedies").disabled = true;
    $("click-help").hidden = true;
    const frames = data.frames, scrub = $("scrubber");
    scrub.max = String(frames.length - 1);
    let timer = null;
    const render = () => {
      const f = frames[Number(scrub.value)];
      $("replay-label").textContent = `picture ${Number(scrub.value) + 1}/${frames.length}`;
      drawFrame(f, data.curves, data.metric_curve);
    };
    scrub.addEventListener("input", render);
    $("replay-play").addEventListener("click", () => {
      if (timer) { clearInterval(timer); timer = null; $("replay-play").textContent = "Play"; return; }
      $("replay-play").textContent = "Pause";
      timer = setInterval(() => {
        scrub.value = String((Number(scrub.value) + 1) % frames.length); render();
      }, 100);
    });
    for (const id of ["show-surface", "show-dstar", "show-manifold", "show-arrows", "show-real", "show-fake",
      "fixed-arrows"]) {
      $(id).addEventListener("change", render);
    }
    setControls(data.settings);
    $("notice").textContent = data.title || "";
    render();
  }

  // -- live ---------------------------------------------------------------------
  async function post(path, body) {
    try {
      const r = await fetch(path, { method: "POST", headers: { "Content-Type": "application/json" },
        body: JSON.stringify(body) });
      const answer = await r.json();
      if (!r.ok) { $("message").textContent = answer.error || `HTTP ${r.status}`; }
      else { $("message").textContent = ""; take(answer.state); }
      if (!r.ok && state) setControls(state.settings);   // show what still holds
      return r.ok;
    } catch (e) {
      $("message").textContent = "the lab's server does not answer (is minigan lab still running?)";
      return false;
    }
  }

  function setControls(s) {
    for (const key of SETTINGS) {
      const el = $(key);
      if (document.activeElement !== el) el.value = String(s[key]);
    }
    for (const key of REMEDIES) $("remedy-" + key).checked = !!s[key];
    if (document.activeElement !== $("speed")) $("speed").value = String(s.speed);
  }

  function take(s) {
    state = s;
    const playing = s.running;
    $("play").textContent = playing ? "Pause" : "Play";
    $("play").classList.toggle("playing", playing);
    if (s.message) $("message").textContent = s.message;
    $("notice").textContent = s.notice || "";
    $("remedy-packing").disabled = !s.packing_available;
    setControls(s.settings);
    if (s.clicked && !cleared) clicked = s.clicked.slice();
    if (s.version !== shown && s.frame) {
      shown = s.version;
      drawFrame(s.frame, s.curves, s.metric_curve);
    }
  }

  // a long poll: the server answers as soon as the version differs from ours
  async function poll() {
    let wait = 0;
    try {
      const r = await fetch(state ? `/api/state?after=${state.version}` : "/api/state");
      if (r.ok) take(await r.json()); else wait = 500;
    } catch (e) {
      $("message").textContent = "the lab's server does not answer (is minigan lab still running?)";
      wait = 1000;
    }
    setTimeout(poll, wait);
  }

  function live() {
    $("play").addEventListener("click", () => post("/api/action", { action: state && state.running ? "pause" : "play" }));
    const actions = { "step": "step", "d-step": "d_step", "g-step": "g_step", "slow-step": "slow_step", "reset": "reset" };
    for (const [id, action] of Object.entries(actions)) {
      $(id).addEventListener("click", () => post("/api/action", { action }));
    }
    for (const key of SETTINGS.concat(["speed"])) {
      $(key).addEventListener("change", () => {
        const raw = $(key).value;
        post("/api/settings", { [key]: NUMBERS.has(key) ? Number(raw) : raw });
      });
    }
    for (const key of REMEDIES) {
      $("remedy-" + key).addEventListener("change", () => post("/api/settings", { [key]: $("remedy-" + key).checked }));
    }
    for (const id of ["show-surface", "show-dstar", "show-manifold", "show-arrows", "show-real", "show-fake",
      "fixed-arrows"]) {
      $(id).addEventListener("change", () => { shown = -1; if (state) take(state); });
    }
    $("plane").addEventListener("click", (ev) => {
      if (!state || !state.frame) return;
      const c = $("plane"), rect = c.getBoundingClientRect();
      const m = Draw.mapper(state.frame.extent, rect.width, rect.height);
      const x = m.x(ev.clientX - rect.left), y = m.y(ev.clientY - rect.top);
      if (state.settings.data !== "points") {
        $("notice").textContent = 'choose data "clicked points" to train on the points you click';
        return;
      }
      clicked.push([Math.round(x * 1000) / 1000, Math.round(y * 1000) / 1000]);
      cleared = false;
      post("/api/points", { points: clicked });
    });
    $("clear-points").addEventListener("click", () => {
      clicked = []; cleared = true;
      $("notice").textContent = "points cleared: click on the plane to add new ones";
    });
    poll();
  }

  if (window.LAB_EXPORT) replay(window.LAB_EXPORT); else live();
})();
