/* global fmt, fmtMs, fmtPct, el, lineChart, histogram, waffle */
// The dashboard both pages draw: tiles, timelines, the KV blocks of every replica and tier, the
// latency histograms, the router and the events. The live page (live.js) and the simulate --html
// report (report.js) each build a `state` and call update(state); only where the numbers come
// from differs.

const COLORS = {
  inUse: '#ea580c',
  reusable: '#3b82f6',
  free: '#e2e8f0',
  host: '#8b5cf6',
  disk: '#0d9488',
  running: '#16a34a',
  waiting: '#e11d48',
  decode: '#2563eb',
  prefill: '#9333ea',
  tokens: '#0f766e',
  hit: '#059669',
  ttft: '#6366f1',
  itl: '#0ea5e9',
};

const TILES = [
  ['running', 'Running'],
  ['waiting', 'Waiting'],
  ['tokensPerS', 'Output tokens/s'],
  ['requestsPerS', 'Finished req/s'],
  ['hitRate', 'Prefix hit rate'],
  ['ttftP50', 'TTFT p50'],
  ['kvInUse', 'GPU KV in use'],
];

function h(tag, cls, text, parent) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  if (parent) parent.appendChild(e);
  return e;
}

function legend(parent, items) {
  const l = h('span', 'legend', undefined, parent);
  for (const [label, color] of items) {
    const i = h('span', 'key', undefined, l);
    h('i', undefined, undefined, i).style.background = color;
    i.appendChild(document.createTextNode(label));
  }
  return l;
}

function panel(grid, id, title, keys, cls) {
  const p = h('section', 'panel' + (cls ? ' ' + cls : ''), undefined, grid);
  p.id = id;
  const head = h('header', undefined, undefined, p);
  h('h2', undefined, title, head);
  if (keys) legend(head, keys);
  else p.stats = h('span', 'stats', '', head);
  return p;
}

/** "p50 7.3 ms · p90 10 ms · p99 70 ms" */
function marksText(marks) {
  return marks
    .filter((m) => m.ms !== null)
    .map((m) => `${m.label} ${fmtMs(m.ms)}`)
    .join(' · ');
}

/**
 * Builds the dashboard in `root`. meta: {title, subtitle, replicas: [label], tiers: [{gpu, host,
 * disk}], router, note}. Returns {update(state), status(text, ok), extra} (extra: a slot under the
 * tiles the report puts its time slider in).
 */
function createDashboard(root, meta) {
  root.textContent = '';
  const top = h('header', 'top', undefined, root);
  const title = h('div', 'title', undefined, top);
  h('h1', undefined, meta.title, title);
  h('span', 'subtitle', meta.subtitle, title);
  const statusEl = h('span', 'status', '', top);
  const tiles = h('div', 'tiles', undefined, root);
  const tileEls = {};
  for (const [key, label] of TILES) {
    const t = h('div', 'tile', undefined, tiles);
    t.id = 'tile-' + key;
    h('div', 'label', label, t);
    tileEls[key] = h('div', 'value', '–', t);
  }
  const extra = h('div', 'extra', undefined, root);
  const grid = h('div', 'grid', undefined, root);
  const requests = panel(grid, 'panel-requests', 'Requests', [
    ['running', COLORS.running],
    ['waiting', COLORS.waiting],
  ]);
  const batch = panel(grid, 'panel-batch', 'Batch per engine step', [
    ['decode sequences', COLORS.decode],
    ['prefill tokens', COLORS.prefill],
  ]);
  const kvKeys = [
    ['in use', COLORS.inUse],
    ['cached', COLORS.reusable],
    ['free', COLORS.free],
  ];
  if (meta.tiers.some((t) => t.host > 0)) kvKeys.push(['host', COLORS.host]);
  if (meta.tiers.some((t) => t.disk > 0)) kvKeys.push(['disk', COLORS.disk]);
  const kv = panel(grid, 'panel-kv', 'KV cache blocks', kvKeys, 'tall');
  const tput = panel(grid, 'panel-throughput', 'Output tokens/s', [['tokens/s', COLORS.tokens]]);
  const cache = panel(grid, 'panel-cache', 'GPU KV usage and prefix hit rate', [
    ['in use', COLORS.inUse],
    ['cached', COLORS.reusable],
    ['hit rate', COLORS.hit],
  ]);
  const ttft = panel(grid, 'panel-ttft', meta.ttftTitle || 'Time to first token', undefined);
  const itl = panel(grid, 'panel-itl', meta.itlTitle || 'Inter-token latency', undefined);
  const side = panel(
    grid,
    'panel-router',
    meta.router ? `Router (${meta.router}) and events` : 'Events',
    undefined,
  );
  const charts = {
    requests: h('div', 'chart', undefined, requests),
    decode: h('div', 'chart half', undefined, batch),
    prefill: h('div', 'chart half', undefined, batch),
    tput: h('div', 'chart', undefined, tput),
    cache: h('div', 'chart', undefined, cache),
    ttft: h('div', 'chart', undefined, ttft),
    itl: h('div', 'chart', undefined, itl),
  };
  const kvBody = h('div', 'kv-body', undefined, kv);
  const kvReplicas = meta.replicas.map((label, i) =>
    kvReplica(kvBody, label, meta.tiers[i], meta.replicas.length),
  );
  const routerEl = h('div', 'router', undefined, side);
  const eventsEl = h('ol', 'events', undefined, side);

  function update(s) {
    for (const [key] of TILES) {
      const v = s.tiles[key];
      tileEls[key].textContent =
        key === 'hitRate' || key === 'kvInUse' ? fmtPct(v) : key === 'ttftP50' ? fmtMs(v) : fmt(v);
    }
    const t = s.timeline;
    const common = {
      xs: t.xs,
      xMin: t.xMin,
      xMax: t.xMax,
      xFormat: t.xFormat,
      xTicks: t.xTicks,
      marker: t.marker,
    };
    lineChart(charts.requests, {
      ...common,
      series: [
        { label: 'running', color: COLORS.running, values: t.running, fill: true },
        { label: 'waiting', color: COLORS.waiting, values: t.waiting },
      ],
    });
    lineChart(charts.decode, {
      ...common,
      noXLabels: true,
      title: 'decode sequences / step',
      series: [{ color: COLORS.decode, values: t.decode, fill: true }],
    });
    lineChart(charts.prefill, {
      ...common,
      title: 'prefill tokens / step',
      series: [{ color: COLORS.prefill, values: t.prefill, fill: true }],
    });
    lineChart(charts.tput, {
      ...common,
      series: [{ color: COLORS.tokens, values: t.tokensPerS, fill: true }],
    });
    lineChart(charts.cache, {
      ...common,
      yMax: 1,
      yFormat: fmtPct,
      stacked: true,
      series: [
        { color: COLORS.inUse, values: t.kvInUse, fill: true, fillOpacity: 0.45, width: 1 },
        { color: COLORS.reusable, values: t.kvCached, fill: true, fillOpacity: 0.3, width: 1 },
      ],
    });
    // The hit rate is not part of the stack: drawn over it on the same 0–100 % axis.
    overlayLine(charts.cache, t.hitRate, common, COLORS.hit);
    histogram(charts.ttft, { boundsMs: s.boundsMs, counts: s.ttft, color: COLORS.ttft, marks: s.ttftMarks });
    histogram(charts.itl, { boundsMs: s.boundsMs, counts: s.itl, color: COLORS.itl, marks: s.itlMarks });
    ttft.stats.textContent = marksText(s.ttftMarks);
    itl.stats.textContent = marksText(s.itlMarks);
    s.kv.forEach((r, i) => kvReplicas[i].update(r));
    drawRouter(routerEl, s.router, meta.replicas);
    drawEvents(eventsEl, s.events, meta.eventsInOrder);
  }

  return {
    update,
    extra,
    status(text, ok) {
      statusEl.textContent = text;
      statusEl.className = 'status ' + (ok ? 'ok' : 'bad');
    },
  };
}

/** A line drawn over an already drawn chart, on its axes (0 to 1). */
function overlayLine(box, values, common, color) {
  const svg = box.querySelector('svg');
  if (!svg || common.xs.length === 0) return;
  const w = Number(svg.getAttribute('width'));
  const hgt = Number(svg.getAttribute('height'));
  const x0 = Number(box.dataset.left),
    x1 = w - 8,
    y0 = hgt - 20,
    y1 = 8;
  const xmin = common.xMin ?? common.xs[0];
  const xmax = common.xMax ?? common.xs[common.xs.length - 1];
  let d = '';
  let pen = false;
  values.forEach((v, i) => {
    if (v === null || v === undefined) {
      pen = false;
      return;
    }
    const x = x0 + ((common.xs[i] - xmin) / (xmax - xmin || 1)) * (x1 - x0);
    const y = y0 - Math.min(1, v) * (y0 - y1);
    d += `${pen ? 'L' : 'M'}${x.toFixed(1)},${y.toFixed(1)}`;
    pen = true;
  });
  if (d) el('path', { d, fill: 'none', stroke: color, 'stroke-width': 2 }, svg);
}

/** One replica's KV tiers: a waffle per tier that exists, with its counts in words. */
function kvReplica(parent, label, tiers, replicas) {
  const box = h('div', 'kv-replica', undefined, parent);
  const head = h('div', 'kv-head', undefined, box);
  h('b', undefined, label, head);
  const summary = h('span', undefined, '', head);
  const width = Math.max(200, parent.clientWidth - 4);
  const rowsBudget = Math.max(3, Math.floor(26 / Math.max(1, replicas)));
  const cell = replicas > 4 ? 5 : 7;
  const cols = Math.floor((width + 1) / (cell + 1));
  const rows = [];
  const tier = (name, total, key, rowsFor) => {
    if (!total) return;
    const line = h('div', 'kv-tier', undefined, box);
    h('span', 'tier-name', name, line);
    const canvas = h('canvas', 'waffle', undefined, line);
    canvas.id = `kv-${key}-${parent.children.length - 1}`;
    const text = h('span', 'tier-text', '', box);
    rows.push({ key, total, canvas, text, maxCells: cols * rowsFor });
  };
  tier('GPU', tiers.gpu, 'gpu', rowsBudget);
  tier('host', tiers.host, 'host', Math.max(1, Math.ceil(rowsBudget / 3)));
  tier('disk', tiers.disk, 'disk', Math.max(1, Math.ceil(rowsBudget / 3)));
  return {
    update(r) {
      for (const row of rows) {
        if (row.key === 'gpu') {
          const [inUse, reusable, free] = r.gpu;
          waffle(
            row.canvas,
            [
              { key: 'inUse', count: inUse, color: COLORS.inUse },
              { key: 'reusable', count: reusable, color: COLORS.reusable },
              { key: 'free', count: free, color: COLORS.free },
            ],
            row.total,
            { width, cell, maxCells: row.maxCells },
          );
          row.text.textContent = `${fmt(inUse)} in use · ${fmt(reusable)} cached · ${fmt(free)} free of ${fmt(row.total)} blocks${cellNote(row.canvas)}`;
          summary.textContent = `${fmtPct(inUse / row.total)} in use`;
        } else {
          const used = r[row.key];
          waffle(row.canvas, [{ key: 'used', count: used, color: COLORS[row.key] }], row.total, {
            width,
            cell,
            maxCells: row.maxCells,
          });
          row.text.textContent = `${fmt(used)} of ${fmt(row.total)} blocks hold evicted prefixes${cellNote(row.canvas)}`;
        }
      }
    },
  };
}

function cellNote(canvas) {
  const per = Number(canvas.dataset.blocksPerCell);
  return per > 1 ? ` · ■ = ${fmt(per)}` : '';
}

/** Routed requests per replica, with the cached tokens the router predicted beside those found. */
function drawRouter(box, router, labels) {
  box.textContent = '';
  if (!router) return;
  const max = Math.max(1, ...router.replicas.map((r) => r.routed));
  h('div', 'router-caption', router.caption, box);
  router.replicas.forEach((r, i) => {
    const row = h('div', 'router-row', undefined, box);
    h('span', 'router-label', labels[i], row);
    const bar = h('span', 'router-bar', undefined, row);
    h('i', undefined, undefined, bar).style.width = `${(100 * r.routed) / max}%`;
    h('span', 'router-value', `${fmt(r.routed)} req · ${fmt(r.actual)} / ${fmt(r.predicted)}`, row);
  });
}

/** The live page lists the newest first; the report lists its run in time order. */
function drawEvents(list, events, inOrder) {
  list.textContent = '';
  for (const e of inOrder ? events : events.slice(-40).reverse()) {
    const li = h('li', e.kind || '', undefined, list);
    h('time', undefined, e.at, li);
    li.appendChild(document.createTextNode(e.text));
  }
  if (events.length === 0) h('li', 'quiet', 'no faults, preemptions or evictions yet', list);
}
