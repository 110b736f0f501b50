// Drawing primitives of the live page (GET /ui) and the simulate --html report: inline SVG charts
// and a canvas of KV blocks. No library: a few hundred lines cover what the two pages draw, and
// both must work offline from one file.

const SVG_NS = 'http://www.w3.org/2000/svg';

/** 1234 -> "1.2k": tiles and axes stay short. */
function fmt(n) {
  if (n === null || n === undefined || !Number.isFinite(n)) return '–';
  const a = Math.abs(n);
  if (a >= 1e9) return (n / 1e9).toFixed(a >= 1e10 ? 0 : 1) + 'G';
  if (a >= 1e6) return (n / 1e6).toFixed(a >= 1e7 ? 0 : 1) + 'M';
  if (a >= 1e4) return (n / 1e3).toFixed(0) + 'k';
  if (a >= 1e3) return (n / 1e3).toFixed(1) + 'k';
  if (a >= 100 || Number.isInteger(n)) return n.toFixed(0);
  if (a >= 10) return n.toFixed(1);
  return n.toFixed(2);
}

/** A latency in ms, in ms or s. */
function fmtMs(ms) {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '–';
  if (ms === 0) return '0';
  if (ms >= 10000) return (ms / 1000).toFixed(0) + ' s';
  if (ms >= 1000) return (ms / 1000).toFixed(1) + ' s';
  if (ms >= 100) return ms.toFixed(0) + ' ms';
  if (ms >= 10) return ms.toFixed(1) + ' ms';
  return ms.toFixed(2) + ' ms';
}

function fmtPct(f) {
  if (f === null || f === undefined || !Number.isFinite(f)) return '–';
  if (f === 0) return '0 %';
  return (f * 100).toFixed(f >= 0.1 ? 0 : 1) + ' %';
}

/** The q quantile of latency bin counts (the server's latency-bins.ts), mid-bin in ms. */
function binQuantile(counts, boundsMs, q) {
  let total = 0;
  for (const c of counts) total += c;
  if (total === 0) return null;
  let seen = 0;
  for (let i = 0; i < counts.length; i++) {
    seen += counts[i];
    if (seen >= q * total && counts[i] > 0) return boundsMs[i] / 2 ** 0.125;
  }
  return null;
}

/** A round axis maximum at or above `v` (1, 2, 2.5, 5 × 10^k). */
function niceMax(v) {
  if (!(v > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= v * 0.999) return m * p;
  return 10 * p;
}

function el(tag, attrs, parent) {
  const e = document.createElementNS(SVG_NS, tag);
  for (const k in attrs) e.setAttribute(k, attrs[k]);
  if (parent) parent.appendChild(e);
  return e;
}

function svgText(parent, x, y, text, cls, anchor) {
  const t = el('text', { x, y, class: cls || 'axis', 'text-anchor': anchor || 'start' }, parent);
  t.textContent = text;
  return t;
}

/** A fresh SVG filling `box` (its size read now), with the plot area inside the margins. */
function freshSvg(box, margin) {
  const w = Math.max(120, box.clientWidth);
  const h = Math.max(60, box.clientHeight);
  box.textContent = '';
  const svg = el('svg', { width: w, height: h, viewBox: `0 0 ${w} ${h}` }, box);
  return { svg, w, h, x0: margin.l, x1: w - margin.r, y0: h - margin.b, y1: margin.t };
}

/**
 * Lines (or stacked areas) over x. opts: xs (numbers, ascending), series [{label, color, values
 * (number|null per x), fill}], stacked, yMax (fixed), yFormat, xFormat, xTicks.
 */
function lineChart(box, opts) {
  const xs = opts.xs;
  const yf = opts.yFormat || fmt;
  // The y axis's widest label sets the left margin; a title gets a line of its own above the plot.
  const probe = opts.yMax ?? niceMax(maxOf(opts));
  const left = 10 + 6 * Math.max(...[0, 0.5, 1].map((f) => yf(probe * f).length));
  const g = freshSvg(box, { l: left, r: 8, t: opts.title ? 18 : 8, b: opts.noXLabels ? 4 : 20 });
  box.dataset.left = String(left);
  if (xs.length === 0) return;
  const xmin = opts.xMin ?? xs[0];
  const xmax = opts.xMax ?? xs[xs.length - 1];
  const sums = new Array(xs.length).fill(0);
  const tops = opts.series.map((s) =>
    s.values.map((v, i) => {
      if (v === null || v === undefined) return null;
      if (!opts.stacked) return v;
      sums[i] += v;
      return sums[i];
    }),
  );
  const yMax = opts.yMax ?? niceMax(maxOf(opts));
  const X = (x) => g.x0 + ((x - xmin) / (xmax - xmin || 1)) * (g.x1 - g.x0);
  const Y = (y) => g.y0 - (Math.min(y, yMax) / yMax) * (g.y0 - g.y1);
  for (const f of [0, 0.5, 1]) {
    const y = Y(yMax * f);
    el('line', { x1: g.x0, x2: g.x1, y1: y, y2: y, class: f === 0 ? 'base' : 'grid' }, g.svg);
    svgText(g.svg, g.x0 - 4, y + 4, yf(yMax * f), 'axis', 'end');
  }
  const xf = opts.xFormat || fmt;
  const ticks = opts.noXLabels ? [] : opts.xTicks || [xmin, (xmin + xmax) / 2, xmax];
  ticks.forEach((x, i) =>
    svgText(
      g.svg,
      X(x),
      g.h - 5,
      xf(x),
      'axis',
      i === 0 ? 'start' : i === ticks.length - 1 ? 'end' : 'middle',
    ),
  );
  opts.series.forEach((s, k) => {
    const top = tops[k];
    const below = k > 0 && opts.stacked ? tops[k - 1] : null;
    let d = '';
    let area = '';
    let run = [];
    const flush = () => {
      if (run.length === 0) return;
      d += run.map((i, j) => `${j ? 'L' : 'M'}${X(xs[i]).toFixed(1)},${Y(top[i]).toFixed(1)}`).join('');
      if (s.fill) {
        const back = run
          .slice()
          .reverse()
          .map((i) => `L${X(xs[i]).toFixed(1)},${Y(below ? (below[i] ?? 0) : 0).toFixed(1)}`)
          .join('');
        area +=
          run.map((i, j) => `${j ? 'L' : 'M'}${X(xs[i]).toFixed(1)},${Y(top[i]).toFixed(1)}`).join('') +
          back +
          'Z';
      }
      run = [];
    };
    top.forEach((v, i) => (v === null ? flush() : run.push(i)));
    flush();
    if (area)
      el('path', { d: area, fill: s.color, 'fill-opacity': s.fillOpacity ?? 0.25, stroke: 'none' }, g.svg);
    if (d) el('path', { d, fill: 'none', stroke: s.color, 'stroke-width': s.width ?? 1.6 }, g.svg);
  });
  if (opts.title) svgText(g.svg, g.x0, 11, opts.title, 'inner');
  if (opts.marker !== undefined) {
    const x = X(opts.marker);
    el('line', { x1: x, x2: x, y1: g.y1, y2: g.y0, class: 'marker' }, g.svg);
  }
}

/** The highest point a line chart draws (the stack's top when stacked). */
function maxOf(opts) {
  let max = 0;
  const n = opts.series.length ? opts.series[0].values.length : 0;
  for (let i = 0; i < n; i++) {
    let stack = 0;
    for (const s of opts.series) {
      const v = s.values[i];
      if (v === null || v === undefined) continue;
      stack = opts.stacked ? stack + v : Math.max(stack, v);
    }
    if (stack > max) max = stack;
  }
  return max;
}

/**
 * A latency histogram on a log x axis. opts: boundsMs (each bin's upper bound), counts, color,
 * marks [{label, ms}].
 */
function histogram(box, opts) {
  const g = freshSvg(box, { l: 8, r: 8, t: 18, b: 20 });
  const { boundsMs, counts } = opts;
  let first = -1;
  let last = -1;
  let max = 0;
  for (let i = 0; i < counts.length; i++) {
    if (counts[i] > 0) {
      if (first < 0) first = i;
      last = i;
      if (counts[i] > max) max = counts[i];
    }
  }
  el('line', { x1: g.x0, x2: g.x1, y1: g.y0, y2: g.y0, class: 'base' }, g.svg);
  if (first < 0) {
    svgText(g.svg, (g.x0 + g.x1) / 2, (g.y0 + g.y1) / 2, 'no data yet', 'empty', 'middle');
    return;
  }
  // At least three octaves shown, so one narrow peak does not fill the whole width.
  const lo = Math.max(0, Math.min(first, last - 12) - 1);
  const hi = Math.min(counts.length - 1, Math.max(last, first + 12) + 1);
  const bw = (g.x1 - g.x0) / (hi - lo + 1);
  for (let i = lo; i <= hi; i++) {
    if (!counts[i]) continue;
    const h = (counts[i] / max) * (g.y0 - g.y1);
    el(
      'rect',
      { x: g.x0 + (i - lo) * bw + 0.5, y: g.y0 - h, width: Math.max(1, bw - 1), height: h, fill: opts.color },
      g.svg,
    );
  }
  const lower = (i) => (i === 0 ? boundsMs[0] / 2 ** 0.25 : boundsMs[i - 1]);
  const X = (ms) => {
    let i = lo;
    while (i < hi && boundsMs[i] < ms) i++;
    const a = Math.log(lower(i));
    const b = Math.log(boundsMs[i]);
    return g.x0 + (i - lo + (Math.log(ms) - a) / (b - a || 1)) * bw;
  };
  const ticks = 3;
  for (let k = 0; k <= ticks; k++) {
    const i = Math.round(lo + ((hi - lo) * k) / ticks);
    svgText(
      g.svg,
      g.x0 + (i - lo + 0.5) * bw,
      g.h - 5,
      fmtMs(boundsMs[i]),
      'axis',
      k === 0 ? 'start' : k === ticks ? 'end' : 'middle',
    );
  }
  // Short labels on the lines (the values are in the panel's header); a label too close to the
  // one before goes to the next row.
  // Marks at the same place share one label ("p50/p90").
  const groups = [];
  for (const m of opts.marks || []) {
    if (m.ms === null) continue;
    const x = X(m.ms);
    const last = groups[groups.length - 1];
    if (last && x - last.x < 3) last.label += '/' + m.label;
    else groups.push({ x, label: m.label });
  }
  let lastX = -Infinity;
  let row = 0;
  for (const m of groups) {
    row = m.x - lastX < 34 ? (row + 1) % 2 : 0;
    lastX = m.x;
    el('line', { x1: m.x, x2: m.x, y1: g.y1 - 4 + row * 10, y2: g.y0, class: 'marker' }, g.svg);
    svgText(g.svg, Math.min(m.x + 2, g.x1 - 8 - 6 * m.label.length), 10 + row * 10, m.label, 'mark');
  }
}

/**
 * KV blocks as a grid of cells on a canvas, in segment order (in use, then reusable, then free):
 * each cell is ceil(total / cells) blocks and takes the colour of the segment most of them are in.
 * The counts go on the canvas's data attributes (tests and tooltips read them).
 */
function waffle(canvas, segments, total, opts) {
  const cell = opts.cell || 7;
  const gap = 1;
  const cols = Math.max(1, Math.floor((opts.width + gap) / (cell + gap)));
  const maxCells = opts.maxCells || cols * 20;
  const per = Math.max(1, Math.ceil(total / maxCells));
  const cells = Math.ceil(total / per);
  const rows = Math.max(1, Math.ceil(cells / cols));
  const dpr = window.devicePixelRatio || 1;
  const w = cols * (cell + gap) - gap;
  const h = rows * (cell + gap) - gap;
  if (canvas.width !== Math.round(w * dpr) || canvas.height !== Math.round(h * dpr)) {
    canvas.width = Math.round(w * dpr);
    canvas.height = Math.round(h * dpr);
    canvas.style.width = w + 'px';
    canvas.style.height = h + 'px';
  }
  const ctx = canvas.getContext('2d');
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.clearRect(0, 0, w, h);
  // Segment boundaries in cells, rounded so a non-zero segment shows at least one cell.
  let at = 0;
  const edges = segments.map((s) => {
    const start = at;
    at += s.count;
    return {
      start: Math.round(start / per),
      end:
        s.count > 0 ? Math.max(Math.round(start / per) + 1, Math.round(at / per)) : Math.round(start / per),
      color: s.color,
    };
  });
  for (let c = 0; c < cells; c++) {
    let color = opts.empty || '#e5e7eb';
    for (const e of edges)
      if (c >= e.start && c < e.end) {
        color = e.color;
        break;
      }
    ctx.fillStyle = color;
    ctx.fillRect((c % cols) * (cell + gap), Math.floor(c / cols) * (cell + gap), cell, cell);
  }
  canvas.dataset.total = String(total);
  canvas.dataset.blocksPerCell = String(per);
  segments.forEach((s) => (canvas.dataset[s.key] = String(s.count)));
}
