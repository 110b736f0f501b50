/* global fmt, binQuantile, createDashboard */
// The live page: frames from GET /ui/events (server-sent events, four a second) kept for a minute
// and drawn by views.js. Nothing here asks the server for anything else.

const WINDOW_S = 60;

function replicaLabels(info, n) {
  if (n === 1) return ['engine'];
  const roles = info.roles || [];
  return Array.from({ length: n }, (_, i) => `replica ${i}${roles[i] ? ' · ' + roles[i] : ''}`);
}

function clock(t) {
  return new Date(t).toTimeString().slice(0, 8);
}

function startLive(root) {
  let hello = null;
  let dash = null;
  const ticks = [];
  const events = [];
  const evicted = [0, 0, 0];
  let sinceEvictionNote = 0;
  const token = new URLSearchParams(location.search).get('token');
  const source = new EventSource('ui/events' + (token ? '?token=' + encodeURIComponent(token) : ''));

  source.onopen = () => dash && dash.status('live', true);
  source.onerror = () => dash && dash.status('disconnected, retrying…', false);
  source.onmessage = (m) => {
    const f = JSON.parse(m.data);
    if (f.type === 'hello') {
      hello = f;
      ticks.length = 0;
      const info = f.info;
      dash = createDashboard(root, {
        title: 'nimsim · live',
        subtitle: [
          info.model,
          f.tiers.length > 1 ? `${f.tiers.length} replicas of ${info.gpu}` : info.gpu,
          info.profile,
          info.timeScale !== undefined ? `time scale ${info.timeScale}` : '',
        ]
          .filter(Boolean)
          .join(' · '),
        replicas: replicaLabels(info, f.tiers.length),
        tiers: f.tiers,
        router: info.router,
      });
      dash.status('live', true);
      return;
    }
    if (f.type !== 'tick' || !hello) return;
    ticks.push(f);
    while (ticks.length > 0 && ticks[0].t < f.t - WINDOW_S * 1000) ticks.shift();
    noteEvents(f);
    render();
  };

  function noteEvents(f) {
    for (const x of f.faults)
      events.push({ at: clock(x.t), text: `fault injected: ${x.type}`, kind: 'fault' });
    f.replicas.forEach((r, i) => {
      if (r.preemptions > 0) {
        const who = f.replicas.length > 1 ? ` on replica ${i}` : '';
        events.push({
          at: clock(f.t),
          text: `${r.preemptions} preempted${who} (KV cache full)`,
          kind: 'preempt',
        });
      }
    });
    // Evictions add up over a second, so the list shows the cache evicting without a line per frame.
    f.replicas.forEach((r) => r.evictions.forEach((n, tier) => (evicted[tier] += n)));
    if (++sinceEvictionNote >= 4) {
      sinceEvictionNote = 0;
      const [gpu, host, disk] = evicted;
      const parts = [];
      if (gpu > 0)
        parts.push(
          `${fmt(gpu)} GPU blocks${hello.tiers.some((t) => t.host > 0 || t.disk > 0) ? ' (down a tier)' : ''}`,
        );
      if (host > 0) parts.push(`${fmt(host)} host blocks`);
      if (disk > 0) parts.push(`${fmt(disk)} disk blocks`);
      if (parts.length > 0)
        events.push({ at: clock(f.t), text: `evicted ${parts.join(', ')}`, kind: 'evict' });
      evicted.fill(0);
    }
    if (events.length > 200) events.splice(0, events.length - 200);
  }

  function render() {
    if (!dash || ticks.length === 0) return;
    dash.update(stateOf(ticks, hello, events));
  }
  window.addEventListener('resize', render);
}

/** The dashboard's state from the last minute of frames. */
function stateOf(ticks, hello, events) {
  const now = ticks[ticks.length - 1].t;
  const bounds = hello.latencyBinsMs;
  const gpuTotal = hello.tiers.reduce((a, t) => a + t.gpu, 0) || 1;
  const xs = [];
  const running = [];
  const waiting = [];
  const decode = [];
  const prefill = [];
  const tokensPerS = [];
  const kvInUse = [];
  const kvCached = [];
  const hitRate = [];
  const ttft = new Array(bounds.length).fill(0);
  const itl = new Array(bounds.length).fill(0);
  let hit = 0;
  let query = 0;
  for (const f of ticks) {
    let run = 0,
      wait = 0,
      steps = 0,
      dec = 0,
      pre = 0,
      inUse = 0,
      reusable = 0,
      h = 0,
      q = 0;
    for (const r of f.replicas) {
      run += r.running;
      wait += r.waiting;
      steps += r.steps;
      dec += r.decodeSeqs;
      pre += r.prefillTokens;
      inUse += r.gpu[0];
      reusable += r.gpu[1];
      h += r.hitTokens;
      q += r.queryTokens;
    }
    xs.push((f.t - now) / 1000);
    running.push(run);
    waiting.push(wait);
    decode.push(steps > 0 ? dec / steps : null);
    prefill.push(steps > 0 ? pre / steps : null);
    const seconds = (f.simMs > 0 ? f.simMs : f.wallMs) / 1000;
    tokensPerS.push(seconds > 0 ? f.tokens / seconds : null);
    kvInUse.push(inUse / gpuTotal);
    kvCached.push(reusable / gpuTotal);
    hitRate.push(q > 0 ? h / q : null);
    hit += h;
    query += q;
    for (let i = 0; i < f.ttft.length; i += 2) ttft[f.ttft[i]] += f.ttft[i + 1];
    for (let i = 0; i < f.itl.length; i += 2) itl[f.itl[i]] += f.itl[i + 1];
  }
  // Tiles: the last second (four frames), so they do not flicker with each step.
  const recent = ticks.slice(-4);
  let recentTokens = 0,
    recentSeconds = 0,
    recentWall = 0,
    recentFinished = 0;
  for (const f of recent) {
    recentTokens += f.tokens;
    recentSeconds += (f.simMs > 0 ? f.simMs : f.wallMs) / 1000;
    recentWall += f.wallMs / 1000;
    recentFinished += f.finished;
  }
  const last = ticks[ticks.length - 1];
  const lastOf = (k) => last.replicas.reduce((a, r) => a + r[k], 0);
  const kv = last.replicas.map((r) => ({ gpu: r.gpu, host: r.host, disk: r.disk }));
  const mark = (counts) => [
    { label: 'p50', ms: binQuantile(counts, bounds, 0.5) },
    { label: 'p90', ms: binQuantile(counts, bounds, 0.9) },
    { label: 'p99', ms: binQuantile(counts, bounds, 0.99) },
  ];
  return {
    tiles: {
      running: lastOf('running'),
      waiting: lastOf('waiting'),
      tokensPerS: recentSeconds > 0 ? recentTokens / recentSeconds : null,
      requestsPerS: recentWall > 0 ? recentFinished / recentWall : null,
      hitRate: query > 0 ? hit / query : null,
      ttftP50: binQuantile(ttft, bounds, 0.5),
      kvInUse: kvInUse[kvInUse.length - 1],
    },
    timeline: {
      xs,
      xMin: -WINDOW_S,
      xMax: 0,
      xTicks: [-60, -45, -30, -15, 0],
      xFormat: (x) => (x === 0 ? 'now' : `${x.toFixed(0)} s`),
      running,
      waiting,
      decode,
      prefill,
      tokensPerS,
      kvInUse,
      kvCached,
      hitRate,
    },
    kv,
    boundsMs: bounds,
    ttft,
    itl,
    ttftMarks: mark(ttft),
    itlMarks: mark(itl),
    router: routerOf(ticks, hello),
    events,
  };
}

/** Routed requests per replica over the last 10 s (several replicas only). */
function routerOf(ticks, hello) {
  if (hello.tiers.length < 2) return null;
  const since = ticks[ticks.length - 1].t - 10000;
  const replicas = hello.tiers.map(() => ({ routed: 0, predicted: 0, actual: 0 }));
  let total = 0;
  for (const f of ticks) {
    if (f.t <= since) continue;
    f.replicas.forEach((r, i) => {
      replicas[i].routed += r.routed;
      replicas[i].predicted += r.predictedCachedTokens;
      replicas[i].actual += r.actualCachedTokens;
      total += r.routed;
    });
  }
  return {
    caption: `last 10 s: ${fmt(total)} requests routed; prompt tokens found cached / predicted by the router`,
    replicas,
  };
}

startLive(document.getElementById('app'));
