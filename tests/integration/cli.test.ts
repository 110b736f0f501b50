import { spawn, spawnSync } from 'node:child_process';
import { createServer, type AddressInfo } from 'node:net';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const CLI = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));
const run = (args: string[], env: Record<string, string> = {}) =>
  spawnSync(process.execPath, [CLI, ...args], {
    env: { ...process.env, ...env },
    encoding: 'utf8',
    timeout: 20_000,
  });

describe('nimsim CLI', () => {
  it('exits 2 with one line naming a bad setting (env or flag)', () => {
    const env = run(['serve'], { NIMSIM_KV_EVICTION: 'random' });
    expect(env.status).toBe(2);
    expect(env.stderr.trim().split('\n')).toHaveLength(1);
    expect(env.stderr).toContain('NIMSIM_KV_EVICTION');
    const flag = run(['serve', '--time-scale', 'abc']);
    expect(flag.status).toBe(2);
    expect(flag.stderr).toContain('--time-scale');
  });

  it('exits 2 with one line for a bad LoRA setting: a missing NIM_PEFT_SOURCE, a rank vLLM does not take', () => {
    const missing = run(['serve', '--port', '0', '--peft-source', '/nonexistent/loras']);
    expect(missing.status).toBe(2);
    expect(missing.stderr.trim().split('\n')).toHaveLength(1);
    expect(missing.stderr).toContain('NIM_PEFT_SOURCE');
    const rank = run(['serve'], { NIM_MAX_LORA_RANK: '24' });
    expect(rank.status).toBe(2);
    expect(rank.stderr.trim().split('\n')).toHaveLength(1);
    expect(rank.stderr).toContain('NIM_MAX_LORA_RANK');
    const loras = run(['serve', '--max-gpu-loras', '0']);
    expect(loras.status).toBe(2);
    expect(loras.stderr).toContain('--max-gpu-loras');
  });

  it('exits 2 with one line for a LoRA workload flag without --loras, or --loras with a trace', () => {
    const zipf = run(['simulate', '--lora-zipf', '0']);
    expect(zipf.status).toBe(2);
    expect(zipf.stderr.trim()).toBe('nimsim: --lora-zipf needs --loras');
    const zero = run(['simulate', '--loras', '0']);
    expect(zero.status).toBe(2);
    expect(zero.stderr).toContain('--loras');
    const trace = run(['simulate', '--loras', '4', '--trace', '/nonexistent.jsonl']);
    expect(trace.status).toBe(2);
    expect(trace.stderr.trim()).toBe('nimsim: --loras does not apply to --trace (a trace names no adapters)');
  });

  it('exits 2 with one line for a bad KV-events endpoint, or a replay endpoint without one', () => {
    const bad = run(['serve'], { NIMSIM_KV_EVENTS_ENDPOINT: 'localhost:5557' });
    expect(bad.status).toBe(2);
    expect(bad.stderr.trim().split('\n')).toHaveLength(1);
    expect(bad.stderr).toContain('NIMSIM_KV_EVENTS_ENDPOINT');
    const replayAlone = run(['serve', '--port', '0', '--kv-events-replay-endpoint', 'tcp://127.0.0.1:5558']);
    expect(replayAlone.status).toBe(2);
    expect(replayAlone.stderr.trim().split('\n')).toHaveLength(1);
    expect(replayAlone.stderr).toContain('NIMSIM_KV_EVENTS_REPLAY_ENDPOINT needs NIMSIM_KV_EVENTS_ENDPOINT');
  });

  it('exits 2 with one line naming --port when the port is taken, and --host when it is not ours', async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const port = (taken.address() as AddressInfo).port;
    try {
      const r = run(['serve', '--host', '127.0.0.1', '--port', String(port)]);
      expect(r.status).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toContain(`--port ${port} (NIMSIM_PORT): already in use`);
    } finally {
      taken.close();
    }
    // TEST-NET-1 (RFC 5737): never an address of this machine.
    const host = run(['serve', '--host', '192.0.2.1', '--port', '0']);
    expect(host.status).toBe(2);
    expect(host.stderr.trim().split('\n')).toHaveLength(1);
    expect(host.stderr).toContain('--host 192.0.2.1 (NIMSIM_HOST): not an address of this machine');
  });

  it('refuses a flag only the server reads, and an empty trace, with exit 2 and one line', () => {
    for (const flag of [
      ['--port', '9000'],
      ['--api-key', 'k'],
      ['--fault-rate', '0.1'],
      ['--rules-file', 'x.yaml'],
      ['--peft-source', '/tmp'],
    ]) {
      const r = run(['simulate', ...flag]);
      expect(r.status, flag[0]).toBe(2);
      expect(r.stderr.trim().split('\n'), flag[0]).toHaveLength(1);
      expect(r.stderr).toContain(`unknown option '${flag[0]}'`);
    }
    const dir = mkdtempSync(join(tmpdir(), 'nimsim-empty-trace-'));
    try {
      const empty = join(dir, 'empty.jsonl');
      writeFileSync(empty, '# no requests\n\n');
      const r = run(['simulate', '--trace', empty]);
      expect(r.status).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toContain('the trace has no requests');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('exits 2 for an unknown flag and for an incompatible profile', () => {
    expect(run(['serve', '--bogus']).status).toBe(2);
    const r = run(['serve', '--gpu', 'a100-80gb', '--precision', 'fp8']);
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('exits 2 with one line when a simulate workload cannot fit the context', () => {
    const r = run(['simulate', '--kv-cache-blocks', '20', '--input-tokens', '200', '--output-tokens', '200']);
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain('needs up to 400 tokens');
    expect(r.stderr).toContain('context length of 320 tokens');
  });

  it('exits 2 with one line for a negative or fractional length spread', () => {
    for (const value of ['-5', '2.5', 'wide']) {
      const r = run(['simulate', '--input-tokens-stddev', value]);
      expect(r.status).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toContain('--input-tokens-stddev');
    }
  });

  it('exits 2 with one line for an objective that is not a positive number', () => {
    for (const [flag, value] of [
      ['--slo-ttft-ms', '0'],
      ['--slo-itl-ms', 'fast'],
    ]) {
      const r = run(['simulate', flag!, value!]);
      expect(r.status).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toContain(flag!);
    }
  });

  it('replays a trace file, and exits 2 with one line for a missing or malformed one', () => {
    const sample = fileURLToPath(new URL('../../load-tests/traces/sample.jsonl', import.meta.url));
    const ok = run(['simulate', '--trace', sample, '--json']);
    expect(ok.status).toBe(0);
    const report = JSON.parse(ok.stdout) as Record<string, unknown>;
    expect(report['requests']).toBe(32);
    expect(report['rejected_400']).toBe(0);
    // Gzipped, as published traces often are: the same replay.
    const gz = join(mkdtempSync(join(tmpdir(), 'nimsim-trace-')), 'sample.jsonl.gz');
    writeFileSync(gz, gzipSync(readFileSync(sample)));
    const zipped = run(['simulate', '--trace', gz, '--json']);
    expect(zipped.status).toBe(0);
    expect((JSON.parse(zipped.stdout) as Record<string, unknown>)['ttft_ms']).toEqual(report['ttft_ms']);
    rmSync(dirname(gz), { recursive: true, force: true });
    const missing = run(['simulate', '--trace', '/no/such/trace.jsonl']);
    expect(missing.status).toBe(2);
    expect(missing.stderr.trim().split('\n')).toHaveLength(1);
    expect(missing.stderr).toContain('--trace');
    const bad = run(['simulate', '--trace', fileURLToPath(import.meta.url)]); // not JSONL
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('trace line 1');
  });

  it('prints the JSON report of simulate with the contract fields', () => {
    const r = run([
      'simulate',
      '--json',
      '--concurrency',
      '4',
      '--requests',
      '20',
      '--input-tokens',
      '100',
      '--output-tokens',
      '20',
    ]);
    expect(r.status).toBe(0);
    const report = JSON.parse(r.stdout) as Record<string, unknown>;
    for (const key of [
      'requests',
      'duration_s',
      'ttft_ms',
      'itl_ms',
      'e2e_ms',
      'output_tokens_per_s',
      'requests_per_s',
      'prefix_cache_hit_rate',
      'kv_cache_peak_usage',
      'preemptions',
    ]) {
      expect(report, key).toHaveProperty(key);
    }
    expect(report['requests']).toBe(20);
    expect(Object.keys(report['ttft_ms'] as object)).toEqual(['mean', 'p50', 'p90', 'p99']);
  });

  it('lists model profiles grouped by compatibility with 64-hex ids', () => {
    const r = run(['list-model-profiles', '--gpu', 'b200']);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('Compatible with system and runnable');
    expect(r.stdout).toMatch(/ {2}- [0-9a-f]{64} \(tensorrt_llm-b200-nvfp4-tp1-pp1-throughput\)/);
  });

  it('serves on a free port, finishes a stream on SIGTERM and exits 0', async () => {
    const child = spawn(process.execPath, [CLI, 'serve', '--port', '0', '--time-scale', '1'], {
      env: { ...process.env, NIM_JSONL_LOGGING: '1' },
    });
    const port = await new Promise<number>((resolve, reject) => {
      let buf = '';
      child.stderr.on('data', (d: Buffer) => {
        buf += d.toString();
        const m = /"port":(\d+)/.exec(buf);
        if (m) resolve(Number(m[1]));
      });
      child.once('exit', (code) => reject(new Error(`exited ${code}: ${buf}`)));
    });
    const res = await fetch(`http://127.0.0.1:${port}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        model: 'meta/llama-3.1-8b-instruct',
        messages: [{ role: 'user', content: 'hi' }],
        max_tokens: 100,
        ignore_eos: true,
        stream: true,
      }),
    });
    const reader = res.body!.getReader();
    await reader.read(); // the stream has started
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    let text = '';
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      text += new TextDecoder().decode(value);
    }
    expect(text).toContain('"finish_reason":"length"');
    expect(text.trimEnd().endsWith('data: [DONE]')).toBe(true);
    expect(await exited).toBe(0);
  });
});
