/* global fmt, fmtMs, fmtPct, binQuantile, lineChart, createDashboard, COLORS, h, panel */
// The simulate --html report: the live page's views over a whole offline run, read from the JSON
// embedded in the page (html-report.ts). A slider picks the moment the tiles and the KV blocks
// show; the timelines cover the whole run in simulated time.

const PALETTE = ['#2563eb', '#ea580c', '#16a34a', '#9333ea', '#e11d48', '#0d9488', '#ca8a04', '#64748b'];

function startReport(root, data) {
  root.classList.add('report');
  const n = data.n;
  const widthS = data.widthMs / 1000;
  const xs = Array.from({ length: n }, (_, b) => (b + 0.5) * widthS);
  const endS = n * widthS;
  const xFormat = (s) => (endS >= 100 ? s.toFixed(0) : endS >= 10 ? s.toFixed(1) : s.toFixed(2)) + ' s';
  const dash = createDashboard(root, {
    title: 'nimsim · simulate report',
    subtitle: data.subtitle,
    replicas: data.replicas.map((r) => r.label),
    tiers: data.replicas.map((r) => r.tiers),
    router: data.router,
    eventsInOrder: true,
    ttftTitle: 'Time to first token (whole run)',
    itlTitle: 'ITL, mean per request (whole run)',
  });
  dash.status(`${n} points of ${fmtMs(data.widthMs)}`, true);

  const summary = h('div', 'summary', undefined, dash.extra);
  summary.textContent = data.summary.map(([k, v]) => `${k}: ${v}`).join('  ·  ');
  if (data.command) summary.title = data.command;
  const slider = h('label', 'slider', undefined, dash.extra);
  h('span', undefined, 'moment shown in the tiles and KV blocks', slider);
  const input = h('input', undefined, undefined, slider);
  input.type = 'range';
  input.min = '0';
  input.max = String(Math.max(0, n - 1));
  input.id = 'moment';
  const out = h('output', undefined, '', slider);

  const more = h('div', 'grid2', undefined, root);
  const chartPanel = (id, title, keys) => h('div', 'chart', undefined, panel(more, id, title, keys));
  const ttftChart = chartPanel('panel-ttft-time', 'TTFT over time', [
    ['p50', COLORS.ttft],
    ['p90', '#a5b4fc'],
    ['p99', '#312e81'],
  ]);
  const itlChart = chartPanel('panel-itl-time', 'ITL over time (mean per request)', [
    ['p50', COLORS.itl],
    ['p90', '#7dd3fc'],
    ['p99', '#075985'],
  ]);
  const perReplica = data.replicas.length > 1;
  const replicaKeys = data.replicas.slice(0, PALETTE.length).map((r, i) => [r.label, PALETTE[i]]);
  const kvChart = perReplica
    ? chartPanel('panel-kv-replicas', 'GPU KV in use per replica', replicaKeys)
    : null;
  const runChart = perReplica
    ? chartPanel('panel-running-replicas', 'Running per replica', replicaKeys)
    : null;

  // The moment of peak KV use: the most telling picture of the blocks.
  let peak = 0;
  data.timeline.kvInUse.forEach((v, b) => (v > data.timeline.kvInUse[peak] ? (peak = b) : 0));
  input.value = String(peak);

  // The report's exact percentiles when it has them (the same figures as its table), else the
  // histogram's, which its bins round.
  const marks = (counts, exact) => [
    { label: 'p50', ms: exact ? exact.p50 : binQuantile(counts, data.boundsMs, 0.5) },
    { label: 'p90', ms: exact ? exact.p90 : binQuantile(counts, data.boundsMs, 0.9) },
    { label: 'p99', ms: exact ? exact.p99 : binQuantile(counts, data.boundsMs, 0.99) },
  ];
  const routerTotal = data.replicas.reduce((a, r) => a + r.routed, 0);

  function render() {
    const b = Number(input.value);
    const t = data.timeline;
    out.textContent = `t = ${xFormat((b + 1) * widthS)} of ${xFormat(endS)} (simulated)`;
    const g = Math.min(Math.floor(b / data.perReplicaStep), data.replicas[0].inUse.length - 1);
    const timeline = {
      xs,
      xMin: 0,
      xMax: endS,
      xFormat,
      xTicks: [0, endS / 4, endS / 2, (3 * endS) / 4, endS],
      marker: xs[b],
      ...t,
    };
    dash.update({
      tiles: {
        running: t.running[b],
        waiting: t.waiting[b],
        tokensPerS: t.tokensPerS[b],
        requestsPerS: t.finishedPerS[b],
        hitRate: t.hitRate[b],
        ttftP50: data.ttft.p50[b],
        kvInUse: t.kvInUse[b],
      },
      timeline,
      kv: data.replicas.map((r) => ({
        gpu: [r.inUse[g], r.reusable[g], r.free[g]],
        host: r.host[g],
        disk: r.disk[g],
      })),
      boundsMs: data.boundsMs,
      ttft: data.ttftAll,
      itl: data.itlAll,
      ttftMarks: marks(data.ttftAll, data.ttftExact),
      itlMarks: marks(data.itlAll, data.itlExact),
      router: perReplica
        ? {
            caption: `whole run: ${fmt(routerTotal)} requests routed; prompt tokens found cached / predicted by the router`,
            replicas: data.replicas.map((r) => ({
              routed: r.routed,
              predicted: r.predicted,
              actual: r.actual,
            })),
          }
        : null,
      events: data.events,
    });
    const common = { xs, xMin: 0, xMax: endS, xFormat, xTicks: timeline.xTicks, marker: xs[b] };
    lineChart(ttftChart, {
      ...common,
      yFormat: fmtMs,
      series: [
        { color: '#312e81', values: data.ttft.p99 },
        { color: '#a5b4fc', values: data.ttft.p90 },
        { color: COLORS.ttft, values: data.ttft.p50, width: 2 },
      ],
    });
    lineChart(itlChart, {
      ...common,
      yFormat: fmtMs,
      series: [
        { color: '#075985', values: data.itl.p99 },
        { color: '#7dd3fc', values: data.itl.p90 },
        { color: COLORS.itl, values: data.itl.p50, width: 2 },
      ],
    });
    if (perReplica) {
      const rxs = data.replicas[0].inUse.map((_, k) =>
        Math.min(endS, (k + 1) * data.perReplicaStep * widthS),
      );
      const rc = { xs: rxs, xMin: 0, xMax: endS, xFormat, xTicks: timeline.xTicks, marker: xs[b] };
      lineChart(kvChart, {
        ...rc,
        yMax: 1,
        yFormat: fmtPct,
        series: data.replicas.map((r, i) => ({
          color: PALETTE[i % PALETTE.length],
          values: r.inUse.map((v) => v / r.tiers.gpu),
          width: 1.2,
        })),
      });
      lineChart(runChart, {
        ...rc,
        series: data.replicas.map((r, i) => ({
          color: PALETTE[i % PALETTE.length],
          values: r.running,
          width: 1.2,
        })),
      });
    }
  }
  input.addEventListener('input', render);
  window.addEventListener('resize', render);
  render();
}

startReport(document.getElementById('app'), JSON.parse(document.getElementById('data').textContent));
