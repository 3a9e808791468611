// The GAN lab's drawing: one picture (a "frame" from the server or an export) onto the
// canvases. Plain JavaScript and canvas, no library. Used by app.js, live and in replay.
"use strict";

const Draw = (() => {
  const REAL = "#1b9e77", FAKE = "#7b3294";

  // plane coordinates -> canvas pixels
  function mapper(extent, w, h) {
    const [x0, x1, y0, y1] = extent;
    return {
      px: (x) => ((x - x0) / (x1 - x0)) * w,
      py: (y) => ((y1 - y) / (y1 - y0)) * h,
      x: (px) => x0 + (px / w) * (x1 - x0),
      y: (py) => y1 - (py / h) * (y1 - y0),
    };
  }

  // D's value -> colour: towards green where D calls x real, purple where fake
  function colour(v) {
    const t = Math.max(-1, Math.min(1, 2 * v - 1));
    const c = t >= 0 ? [27, 158, 119] : [123, 50, 148];
    const a = Math.abs(t) * 0.75;
    return [255 + (c[0] - 255) * a, 255 + (c[1] - 255) * a, 255 + (c[2] - 255) * a];
  }

  function surface(ctx, f, w, h) {
    const n = f.res, img = new ImageData(n, n);
    let lo = 0, hi = 1;
    if (f.surface_kind === "score") {   // a critic's raw value: symmetric around 0
      let m = 1e-9;
      for (const v of f.surface) if (v !== null) m = Math.max(m, Math.abs(v));
      lo = -m; hi = m;
    }
    for (let i = 0; i < n * n; i++) {
      const v = f.surface[i] === null ? 0.5 : (f.surface[i] - lo) / (hi - lo);
      const [r, g, b] = colour(v);
      img.data[4 * i] = r; img.data[4 * i + 1] = g; img.data[4 * i + 2] = b;
      img.data[4 * i + 3] = 255;
    }
    const off = document.createElement("canvas");
    off.width = n; off.height = n;
    off.getContext("2d").putImageData(img, 0, 0);
    ctx.imageSmoothingEnabled = true;
    ctx.drawImage(off, 0, 0, w, h);
  }

  // marching squares on the cell-centre grid: the level line of `values` at `level`
  function contour(ctx, values, n, w, h, level) {
    const cw = w / n, ch = h / n;
    const at = (i, j) => values[i * n + j];
    ctx.beginPath();
    for (let i = 0; i + 1 < n; i++) {
      for (let j = 0; j + 1 < n; j++) {
        const c = [at(i, j), at(i, j + 1), at(i + 1, j + 1), at(i + 1, j)];
        if (c.some((v) => v === null)) continue;
        const p = [[j, i], [j + 1, i], [j + 1, i + 1], [j, i + 1]];
        const cut = [];
        for (let e = 0; e < 4; e++) {
          const a = c[e] - level, b = c[(e + 1) % 4] - level;
          if ((a < 0) !== (b < 0)) {
            const t = a / (a - b), q = p[e], r = p[(e + 1) % 4];
            cut.push([(q[0] + t * (r[0] - q[0]) + 0.5) * cw, (q[1] + t * (r[1] - q[1]) + 0.5) * ch]);
          }
        }
        for (let k = 0; k + 1 < cut.length; k += 2) {
          ctx.moveTo(cut[k][0], cut[k][1]); ctx.lineTo(cut[k + 1][0], cut[k + 1][1]);
        }
      }
    }
    ctx.stroke();
  }

  function points(ctx, m, pts, fill, radius) {
    ctx.fillStyle = fill;
    for (const p of pts) {
      if (p[0] === null || p[1] === null) continue;
      ctx.beginPath(); ctx.arc(m.px(p[0]), m.py(p[1]), radius, 0, 2 * Math.PI); ctx.fill();
    }
  }

  // arrows: the 90th percentile of the lengths is drawn as 6% of the plane's width, or,
  // to scale (fixed), a gradient of norm 1 is
  function arrows(ctx, m, f, w, fixed) {
    const lengths = f.arrows.map((a) => Math.hypot(a[0] || 0, a[1] || 0)).sort((a, b) => a - b);
    const p90 = lengths[Math.floor(0.9 * (lengths.length - 1))] || 0;
    const ref = fixed ? 1 : p90;
    if (!(ref > 0)) return 0;
    const span = f.extent[1] - f.extent[0], scale = (0.06 * span) / ref;
    ctx.strokeStyle = "rgba(60, 20, 80, 0.75)"; ctx.lineWidth = 1;
    ctx.beginPath();
    f.fake.forEach((p, i) => {
      const a = f.arrows[i];
      if (!a || a[0] === null || p[0] === null) return;
      const x0 = m.px(p[0]), y0 = m.py(p[1]);
      const x1 = m.px(p[0] + scale * a[0]), y1 = m.py(p[1] + scale * a[1]);
      ctx.moveTo(x0, y0); ctx.lineTo(x1, y1);
      const ang = Math.atan2(y1 - y0, x1 - x0), head = Math.min(4, Math.hypot(x1 - x0, y1 - y0) / 2);
      ctx.moveTo(x1, y1); ctx.lineTo(x1 - head * Math.cos(ang - 0.5), y1 - head * Math.sin(ang - 0.5));
      ctx.moveTo(x1, y1); ctx.lineTo(x1 - head * Math.cos(ang + 0.5), y1 - head * Math.sin(ang + 0.5));
    });
    ctx.stroke();
    return p90;
  }

  function manifold(ctx, m, lines) {
    ctx.strokeStyle = "rgba(123, 50, 148, 0.45)"; ctx.lineWidth = 1;
    for (const line of lines) {
      ctx.beginPath();
      let pen = false;
      for (const p of line) {
        if (p[0] === null || p[1] === null) { pen = false; continue; }
        if (pen) ctx.lineTo(m.px(p[0]), m.py(p[1])); else ctx.moveTo(m.px(p[0]), m.py(p[1]));
        pen = true;
      }
      ctx.stroke();
    }
  }

  // the plane: heat map, D* contours, manifold, reals, fakes, arrows; returns arrow scale
  function plane(canvas, f, show) {
    const ctx = canvas.getContext("2d"), w = canvas.width, h = canvas.height;
    ctx.clearRect(0, 0, w, h);
    const m = mapper(f.extent, w, h);
    if (show.surface) surface(ctx, f, w, h);
    if (show.dstar && f.d_star) {   // D* = 0.7 (dark green) and 0.3 (dark purple)
      ctx.setLineDash([5, 3]); ctx.lineWidth = 1.6;
      ctx.strokeStyle = "#0b5e45"; contour(ctx, f.d_star, f.res, w, h, 0.7);
      ctx.strokeStyle = "#4a1360"; contour(ctx, f.d_star, f.res, w, h, 0.3);
      ctx.setLineDash([]);
    }
    if (show.manifold) manifold(ctx, m, f.manifold);
    if (show.real) points(ctx, m, f.real, REAL, 2.2);
    if (show.fake) points(ctx, m, f.fake, FAKE, 2.2);
    return show.arrows ? arrows(ctx, m, f, w, show.fixedArrows) : 0;
  }

  // line chart of series [{name, colour, values: [[x, y], ...]}]
  function chart(canvas, title, series, fixed) {
    const ctx = canvas.getContext("2d"), w = canvas.width, h = canvas.height;
    ctx.clearRect(0, 0, w, h);
    ctx.font = "11px sans-serif"; ctx.fillStyle = "#333"; ctx.fillText(title, 6, 12);
    const all = series.flatMap((s) => s.values.filter((v) => v[1] !== null && isFinite(v[1])));
    if (all.length < 1) return;
    let [x0, x1] = [Math.min(...all.map((v) => v[0])), Math.max(...all.map((v) => v[0]))];
    let [y0, y1] = fixed || [Math.min(...all.map((v) => v[1])), Math.max(...all.map((v) => v[1]))];
    if (x1 === x0) x1 = x0 + 1;
    if (y1 === y0) { y0 -= 0.5; y1 += 0.5; }
    const L = 40, R = 8, T = 18, B = 16;
    const px = (x) => L + ((x - x0) / (x1 - x0)) * (w - L - R);
    const py = (y) => h - B - ((y - y0) / (y1 - y0)) * (h - T - B);
    ctx.strokeStyle = "#bbb"; ctx.strokeRect(L, T, w - L - R, h - T - B);
    ctx.fillStyle = "#555";
    ctx.fillText(y1.toPrecision(3), 2, T + 8); ctx.fillText(y0.toPrecision(3), 2, h - B);
    ctx.fillText("step " + x0, L, h - 3); ctx.fillText(String(x1), w - R - 40, h - 3);
    let lx = L + 120;
    for (const s of series) {
      ctx.strokeStyle = s.colour; ctx.lineWidth = 1.3; ctx.beginPath();
      let pen = false;
      for (const v of s.values) {
        if (v[1] === null || !isFinite(v[1])) { pen = false; continue; }
        if (pen) ctx.lineTo(px(v[0]), py(v[1])); else ctx.moveTo(px(v[0]), py(v[1]));
        pen = true;
      }
      ctx.stroke();
      ctx.fillStyle = s.colour; ctx.fillText(s.name, lx, 12); lx += ctx.measureText(s.name).width + 12;
    }
  }

  // horizontal bars of log10 gradient norms, one group per part of the step
  function bars(canvas, norms) {
    const ctx = canvas.getContext("2d"), w = canvas.width, h = canvas.height;
    ctx.clearRect(0, 0, w, h);
    ctx.font = "11px sans-serif";
    if (!norms) { ctx.fillStyle = "#555"; ctx.fillText("no step recorded yet: press Step", 6, 14); return; }
    const rows = [];
    for (const part of ["D step", "G step"]) {
      for (const r of norms[part] || []) rows.push([part, r.layer, r.norm]);
    }
    const logs = rows.map((r) => (r[2] > 0 ? Math.log10(r[2]) : null)).filter((v) => v !== null);
    if (!logs.length) return;
    const lo = Math.floor(Math.min(...logs)), hi = Math.ceil(Math.max(...logs) + 1e-9);
    const rowH = Math.min(16, (h - 18) / rows.length), L = 150;
    ctx.fillStyle = "#333";
    ctx.fillText(`step ${norms.step}: norm of dL/d(layer output), log scale 1e${lo} .. 1e${hi}`, 4, 11);
    rows.forEach((r, i) => {
      const y = 16 + i * rowH;
      ctx.fillStyle = r[0] === "D step" ? "#1b9e77" : "#7b3294";
      const v = r[2] > 0 ? (Math.log10(r[2]) - lo) / Math.max(hi - lo, 1) : 0;
      ctx.fillRect(L, y + 1, Math.max(1, v * (w - L - 60)), rowH - 3);
      ctx.fillStyle = "#333";
      ctx.fillText(`${r[0][0]}: ${r[1]}`, 2, y + rowH - 4);
      ctx.fillText(r[2] === null ? "nan" : r[2].toExponential(1), L + v * (w - L - 60) + 4, y + rowH - 4);
    });
  }

  return { plane, chart, bars, mapper, contour };
})();
