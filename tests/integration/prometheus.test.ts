/**
 * A real Prometheus (Debian's `prometheus` package; .ci/run installs it) scrapes two live nimsims
 * under mixed traffic — two replicas behind a router, and a disaggregated deployment (one prefill
 * and one decode replica) serving another model name — then every panel query of every shipped
 * dashboard must return data through Prometheus' HTTP API for each deployment's model (the
 * Disaggregation row for the disaggregated one only, and nothing for the other), the alerting rules
 * must load, and `promtool check rules` / `promtool test rules` must pass. Skipped only when the
 * binaries are missing outside CI.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DISAGGREGATION_ROW } from '../../grafana/disagg-panels.js';
import { startLiveServer, type LiveServer } from '../helpers/live-server.js';

const ROOT = join(import.meta.dirname, '..', '..');
const RULES = join(ROOT, 'prometheus', 'alerts.yml');
const RULE_TESTS = join(ROOT, 'prometheus', 'alerts.test.yml');
const DASHBOARDS = join(ROOT, 'grafana', 'dashboards');
const MODEL = 'meta/llama-3.1-8b-instruct';
/** The disaggregated deployment's served name: the dashboards' model_name variable tells them apart. */
const DISAGG_MODEL = 'llama-disaggregated';
const run = promisify(execFile);

function which(bin: string): string | undefined {
  for (const dir of (process.env['PATH'] ?? '').split(delimiter)) {
    const p = join(dir, bin);
    if (dir && existsSync(p)) return p;
  }
  return undefined;
}
const PROMETHEUS = which('prometheus');
const PROMTOOL = which('promtool');
const available = PROMETHEUS !== undefined && PROMTOOL !== undefined;

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface PromResponse {
  status: string;
  data: { resultType: string; result: unknown[] } | unknown[];
  error?: string;
}

interface PanelQuery {
  readonly dashboard: string;
  /** The title of the row the panel sits in. */
  readonly row: string;
  readonly panel: string;
  /** The query with Grafana's rate window; `$model_name` left for `forModel`. */
  readonly expr: string;
}

/** The panel queries of the shipped dashboard JSON, row by row. */
function panelQueries(): PanelQuery[] {
  const out: PanelQuery[] = [];
  for (const file of readdirSync(DASHBOARDS).filter((f) => f.endsWith('.json'))) {
    const dash = JSON.parse(readFileSync(join(DASHBOARDS, file), 'utf8')) as {
      panels: { type: string; title: string; targets?: { expr: string }[] }[];
    };
    let row = '';
    for (const panel of dash.panels) {
      if (panel.type === 'row') row = panel.title;
      for (const t of panel.targets ?? []) {
        const expr = t.expr.replaceAll('$__rate_interval', '1m');
        out.push({ dashboard: file, row, panel: panel.title, expr });
      }
    }
  }
  return out;
}

/**
 * `expr` as Grafana sends it with the model_name variable set to one `model` (regex-escaped, as
 * Grafana formats a multi-value variable for Prometheus), or to "All" (`.*`).
 */
function forModel(expr: string, model: string | 'All'): string {
  const value = model === 'All' ? '.*' : model.replace(/[.*+?^${}()|[\]\\]/g, '\\\\$&');
  return expr.replaceAll('$model_name', value);
}

describe.skipIf(!available && !process.env['CI'])('a real Prometheus scraping nimsim', () => {
  let nimsim: LiveServer;
  let disagg: LiveServer;
  let prom: ChildProcess | undefined;
  let promUrl = '';
  let dir = '';
  let promLog = '';
  let completionTokens = 0;
  let disaggCompletionTokens = 0;
  /** A response's usage.completion_tokens (JSON, or the usage frame of a stream). */
  const completionTokensOf = async (res: Response) => {
    const text = await res.text();
    const bodies = res.headers.get('content-type')?.includes('text/event-stream')
      ? text
          .split('\n\n')
          .map((f) => f.replace(/^data: /, ''))
          .filter((d) => d.startsWith('{'))
      : [text];
    let n = 0;
    for (const b of bodies)
      n += (JSON.parse(b) as { usage?: { completion_tokens: number } }).usage?.completion_tokens ?? 0;
    return n;
  };

  const query = async (expr: string): Promise<PromResponse> => {
    const res = await fetch(`${promUrl}/api/v1/query?query=${encodeURIComponent(expr)}`);
    return (await res.json()) as PromResponse;
  };
  const post = (path: string, body: unknown, server = nimsim) =>
    fetch(`${server.baseUrl}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });

  beforeAll(async () => {
    expect(available, 'prometheus and promtool must be installed under CI (see .ci/run)').toBe(true);
    // Two replicas, so the per-replica and routing panels have data too; and a disaggregated
    // deployment under another served name, so the Disaggregation row has data for that name only.
    nimsim = await startLiveServer({ timeScale: '20', replicas: '2' });
    disagg = await startLiveServer({
      timeScale: '20',
      prefillReplicas: '1',
      decodeReplicas: '1',
      servedModelName: DISAGG_MODEL,
    });
    dir = mkdtempSync(join(tmpdir(), 'nimsim-prom-'));
    const port = await freePort();
    promUrl = `http://127.0.0.1:${port}`;
    writeFileSync(
      join(dir, 'prometheus.yml'),
      [
        'global:',
        '  scrape_interval: 1s',
        '  evaluation_interval: 1s',
        'rule_files:',
        `  - ${JSON.stringify(RULES)}`,
        'scrape_configs:',
        '  - job_name: nimsim',
        '    metrics_path: /v1/metrics',
        '    static_configs:',
        `      - targets: ['127.0.0.1:${nimsim.port}']`,
        '  - job_name: nimsim-disagg',
        '    metrics_path: /v1/metrics',
        '    static_configs:',
        `      - targets: ['127.0.0.1:${disagg.port}']`,
        '',
      ].join('\n'),
    );
    prom = spawn(
      PROMETHEUS!,
      [
        `--config.file=${join(dir, 'prometheus.yml')}`,
        `--storage.tsdb.path=${join(dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${port}`,
        '--log.level=warn',
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    prom.stderr?.on('data', (d: Buffer) => (promLog += d.toString()));
    const deadline = Date.now() + 15_000;
    for (;;) {
      const ok = await fetch(`${promUrl}/-/ready`).then(
        (r) => r.ok,
        () => false,
      );
      if (ok) break;
      if (Date.now() > deadline || prom.exitCode !== null)
        throw new Error(`prometheus did not start:\n${promLog}`);
      await sleep(200);
    }

    // Prometheus starts scraping only when target discovery first syncs (about 5 s after start):
    // the traffic must come after a first scrape so that rate() has a sample before it.
    while (((await query('up')).data as { result: unknown[] }).result.length < 2) {
      if (Date.now() > deadline + 15_000) throw new Error(`prometheus never scraped nimsim:\n${promLog}`);
      await sleep(200);
    }

    // Mixed traffic: successes, streaming, cache hits, 400, 404.
    const long = 'Summarise the history of tensor cores, generation by generation. '.repeat(30);
    const ok = await Promise.all([
      post('/v1/chat/completions', {
        model: MODEL,
        messages: [{ role: 'user', content: long }],
        max_tokens: 24,
        ignore_eos: true,
      }),
      post('/v1/chat/completions', {
        model: MODEL,
        messages: [{ role: 'user', content: 'Tell me a story.' }],
        max_tokens: 40,
        stream: true,
        stream_options: { include_usage: true },
      }),
      post('/v1/completions', { model: MODEL, prompt: 'The GPU said', max_tokens: 16, n: 2 }),
    ]);
    for (const r of ok) {
      expect(r.status).toBe(200);
      completionTokens += await completionTokensOf(r);
    }
    const again = await post('/v1/chat/completions', {
      model: MODEL,
      messages: [{ role: 'user', content: long }],
      max_tokens: 8,
    });
    const body = (await again.json()) as {
      usage: { completion_tokens: number; prompt_tokens_details: { cached_tokens: number } };
    };
    expect(body.usage.prompt_tokens_details.cached_tokens).toBeGreaterThan(0);
    completionTokens += body.usage.completion_tokens;
    expect((await post('/v1/chat/completions', { model: MODEL })).status).toBe(400);
    expect(
      (await post('/v1/chat/completions', { model: 'nope', messages: [{ role: 'user', content: 'hi' }] }))
        .status,
    ).toBe(404);

    // The disaggregated deployment: a prompt over max_local_prefill_length (1,000 tokens) is
    // prefilled on the prefill replica and its blocks move to the decode replica; a short streamed
    // one, and then the long one again (now held by the decode replica), are prefilled locally.
    const disaggChat = (content: string, extra: object) =>
      post(
        '/v1/chat/completions',
        { model: DISAGG_MODEL, messages: [{ role: 'user', content }], ...extra },
        disagg,
      );
    const longer = 'The quick brown fox jumps over the lazy dog. '.repeat(150); // ~1,500 tokens
    for (const res of [
      await disaggChat(longer, { max_tokens: 24, ignore_eos: true }),
      await disaggChat('Tell me a story.', {
        max_tokens: 40,
        stream: true,
        stream_options: { include_usage: true },
      }),
      await disaggChat(longer, { max_tokens: 8 }),
    ]) {
      expect(res.status).toBe(200);
      disaggCompletionTokens += await completionTokensOf(res);
    }
    // Two scrapes after the traffic ended.
    await sleep(2200);
  }, 45_000);

  afterAll(async () => {
    if (prom && prom.exitCode === null) {
      const exited = new Promise((r) => prom!.once('exit', r));
      prom.kill('SIGTERM');
      await Promise.race([exited, sleep(5000)]);
      if (prom.exitCode === null) prom.kill('SIGKILL');
    }
    await nimsim?.stop();
    await disagg?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('scrapes both targets', async () => {
    for (const job of ['nimsim', 'nimsim-disagg']) {
      const up = await query(`up{job="${job}"}`);
      expect(up.status).toBe('success');
      expect(up.data, job).toMatchObject({ result: [{ value: [expect.any(Number), '1'] }] });
    }
  });

  /** The queries among `queries` that fail or return no series with model_name set to `model`. */
  const emptyFor = async (queries: readonly PanelQuery[], model: string) => {
    const empty: string[] = [];
    for (const q of queries) {
      const expr = forModel(q.expr, model);
      const res = await query(expr);
      const result = (res.data as { result?: unknown[] }).result ?? [];
      if (res.status !== 'success' || result.length === 0)
        empty.push(`${q.dashboard} / ${q.panel} (${model}): ${expr} → ${res.error ?? 'no data'}`);
    }
    return empty;
  };

  it('returns data for every panel query of every shipped dashboard', async () => {
    const queries = panelQueries();
    expect(queries.length).toBeGreaterThan(30);
    const disaggRow = queries.filter((q) => q.row === DISAGGREGATION_ROW);
    expect(disaggRow.length).toBeGreaterThanOrEqual(5);
    // Every panel for All models and for the disaggregated deployment (the role label breaks no
    // query); every panel but the Disaggregation row for the deployment with replicas alone.
    expect([
      ...(await emptyFor(queries, 'All')),
      ...(await emptyFor(queries, DISAGG_MODEL)),
      ...(await emptyFor(
        queries.filter((q) => q.row !== DISAGGREGATION_ROW),
        MODEL,
      )),
    ]).toEqual([]);
  });

  it('shows nothing in the Disaggregation row for a deployment that is not disaggregated', async () => {
    const queries = panelQueries().filter((q) => q.row === DISAGGREGATION_ROW);
    const shown = (await emptyFor(queries, MODEL)).length;
    expect(shown).toBe(queries.length);
  });

  it("offers each deployment's served model to the model_name variable", async () => {
    const res = await fetch(
      `${promUrl}/api/v1/label/model_name/values?match[]=${encodeURIComponent('vllm:request_success_total')}`,
    );
    expect(((await res.json()) as PromResponse).data).toEqual([DISAGG_MODEL, MODEL]);
  });

  it('counts in Prometheus what the clients received', async () => {
    const value = async (expr: string) =>
      Number(((await query(expr)).data as { result: { value: [number, string] }[] }).result[0]!.value[1]);
    expect(completionTokens).toBeGreaterThan(100);
    expect(await value(`sum(vllm:generation_tokens_total{model_name="${MODEL}"})`)).toBe(completionTokens);
    expect(await value(`sum(generation_tokens_total{model_name="${MODEL}"})`)).toBe(completionTokens);
    const errors = await query('sum by (status) (nimsim_http_requests_total{status=~"4.."})');
    const byStatus = Object.fromEntries(
      (errors.data as { result: { metric: { status: string }; value: [number, string] }[] }).result.map(
        (r) => [r.metric.status, r.value[1]],
      ),
    );
    expect(byStatus).toEqual({ '400': '1', '404': '1' });
  });

  it('counts the disaggregated deployment by role, and its prefills and transfers', async () => {
    const value = async (expr: string) =>
      Number(((await query(expr)).data as { result: { value: [number, string] }[] }).result[0]!.value[1]);
    const m = `model_name="${DISAGG_MODEL}"`;
    expect(disaggCompletionTokens).toBeGreaterThan(24);
    // The decode replica generated every token the clients received; the prefill replica made one
    // (discarded) token for the one remote prefill.
    expect(await value(`sum(vllm:generation_tokens_total{${m},role="decode"})`)).toBe(disaggCompletionTokens);
    expect(await value(`sum(vllm:generation_tokens_total{${m},role="prefill"})`)).toBe(1);
    expect(await value(`sum(nimsim_disagg_prefills_total{${m},where="remote"})`)).toBe(1);
    expect(await value(`sum(nimsim_disagg_prefills_total{${m},where="local"})`)).toBe(2);
    expect(await value(`sum(nimsim_kv_transfer_seconds_count{${m}})`)).toBe(1);
    expect(await value(`sum(nimsim_kv_transfer_bytes_total{${m}})`)).toBeGreaterThan(0);
    expect(await value(`sum(nimsim_kv_transfers_in_flight{${m}})`)).toBe(0);
  });

  it('loads the alerting rules, and promtool checks and unit-tests them', async () => {
    const rules = (await (await fetch(`${promUrl}/api/v1/rules`)).json()) as {
      data: { groups: { rules: { health: string; name: string }[] }[] };
    };
    const all = rules.data.groups.flatMap((g) => g.rules);
    expect(all.length).toBe(13);
    expect(all.filter((r) => r.health === 'err')).toEqual([]);
    const check = await run(PROMTOOL!, ['check', 'rules', RULES]);
    expect(check.stdout).toContain('SUCCESS: 13 rules found');
    const test = await run(PROMTOOL!, ['test', 'rules', RULE_TESTS]);
    expect(test.stdout).toContain('SUCCESS');
    const config = await run(PROMTOOL!, ['check', 'config', join(ROOT, 'prometheus', 'prometheus.yml')]);
    expect(config.stdout).toContain('SUCCESS');
  });
});
