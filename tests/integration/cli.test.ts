import { spawn, spawnSync } from 'node:child_process';
import { createServer, type AddressInfo } from 'node:net';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { SIMULATE_SETTINGS, shownDefault, type SettingsCommand } from '../../src/cli-options.js';
import { SETTINGS, flagOf, type SettingKey } from '../../src/config/settings.js';
import { SIMULATE_FLAGS } from '../../src/simulate/flags.js';

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

  it('says a bad setting in one short line: the name the user used, the value, what is allowed', () => {
    const dir = mkdtempSync(join(tmpdir(), 'nimsim-rules-'));
    const truncated = join(dir, 'rules.json');
    writeFileSync(
      truncated,
      '{"rules": [\n  {"match": {"user_contains": "hi"},\n   "reply": {"content": "yo"',
    );
    const cases: [args: string[], env: Record<string, string>, says: string][] = [
      [['serve', '--port', 'abc'], {}, '--port=abc: must be an integer from 0 to 65535'],
      // The bound, said as the pattern is: not zod's "Too big: expected number to be <=65535".
      [['serve', '--port', '99999'], {}, '--port=99999: must be an integer from 0 to 65535'],
      [['serve'], { NIM_SERVER_PORT: '99999' }, 'NIM_SERVER_PORT=99999: must be an integer from 0 to 65535'],
      [
        ['serve'],
        { NIMSIM_FAULT_TYPES: 'foo' },
        'NIMSIM_FAULT_TYPES=foo: unknown fault type foo; allowed: all, or a comma-separated list',
      ],
      [['serve', '--kv-eviction', 'random'], {}, '--kv-eviction=random: must be one of lru, fifo, lfu'],
      // The catalog's refusals name the flag when the flag was given, the variable when it was.
      [
        ['serve', '--model', 'gpt-4o'],
        {},
        '--model=gpt-4o: unknown model; allowed: the 10 models --help lists',
      ],
      [['simulate'], { NIM_MODEL_NAME: 'gpt-4o' }, 'NIM_MODEL_NAME=gpt-4o: unknown model'],
      [
        ['simulate', '--model', 'llama-3.1-8b-instruct'],
        {},
        '--model=llama-3.1-8b-instruct: unknown model; did you mean meta/llama-3.1-8b-instruct?',
      ],
      [['simulate', '--gpu', 'tpu'], {}, '--gpu=tpu: unknown GPU; allowed: a100-80gb, l40s, h100-sxm'],
      // A truncated JSON rules file: JSON's complaint at its line and column, not a YAML parser's.
      [
        ['serve', '--port', '0', '--rules-file', truncated],
        {},
        `--rules-file=${truncated}: line 3, column 29: invalid JSON: `,
      ],
      [['simulate', '--concurrency', '0'], {}, '--concurrency=0: must be an integer ≥ 1'],
    ];
    try {
      for (const [args, env, says] of cases) {
        const r = run(args, env);
        const line = r.stderr.trimEnd();
        expect(r.status, line).toBe(2);
        expect(line.split('\n'), line).toHaveLength(1);
        expect(line.startsWith(`nimsim: ${says}`), line).toBe(true);
        expect(line.length, line).toBeLessThan(160);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('shows every option of a command under a heading, with its default, within 80 columns', () => {
    /** Each option's whole entry (its term and wrapped description, on one line) by flag. */
    const entries = (command: SettingsCommand) => {
      const r = run([command, '--help']);
      expect(r.status).toBe(0);
      const lines = r.stdout.split('\n');
      for (const line of lines) expect(line.length, line).toBeLessThanOrEqual(80);
      const byFlag = new Map<string, string>();
      let flag: string | undefined;
      let heading = '';
      for (const line of lines) {
        const start = /^ {2}(--[a-z-]+)/.exec(line);
        if (start) {
          flag = start[1]!;
          expect(heading, `${flag} under a heading`).not.toBe('Options:');
          byFlag.set(flag, line.trim());
        } else if (/^ {4,}\S/.test(line) && flag) {
          byFlag.set(flag, `${byFlag.get(flag)} ${line.trim()}`);
        } else {
          flag = undefined;
          if (/^\S.*:$/.test(line)) heading = line;
        }
      }
      return { byFlag, lines };
    };
    const accepts: Record<SettingsCommand, readonly SettingKey[]> = {
      serve: Object.keys(SETTINGS) as SettingKey[],
      simulate: SIMULATE_SETTINGS,
      'list-model-profiles': ['modelName', 'gpu', 'gpus'],
    };
    for (const command of Object.keys(accepts) as SettingsCommand[]) {
      const { byFlag, lines } = entries(command);
      for (const key of accepts[command]) {
        const entry = byFlag.get(`--${flagOf(key)}`);
        expect(entry, `${command} --${flagOf(key)}`).toBeDefined();
        const shown = shownDefault(key, command);
        expect(shown, `${command} --${flagOf(key)} has a default to show`).toBeDefined();
        expect(entry, command).toContain(`(default: ${shown}`);
        if ('default' in SETTINGS[key]) expect(entry, command).toContain(`default: ${SETTINGS[key].default}`);
        // The variable, when the rule (NIMSIM_ + the flag in capitals) would not give it.
        if (SETTINGS[key].env !== `NIMSIM_${flagOf(key).toUpperCase().replace(/-/g, '_')}`)
          expect(entry, command).toContain(`env ${SETTINGS[key].env}`);
      }
      // No setting a command does not take.
      const others = (Object.keys(SETTINGS) as SettingKey[]).filter((k) => !accepts[command].includes(k));
      for (const key of others)
        expect(byFlag.has(`--${flagOf(key)}`), `${command} --${flagOf(key)}`).toBe(false);
      // Headings, not one flat list of dozens of options.
      expect(lines.filter((l) => /^\S.*:$/.test(l)).length, command).toBeGreaterThanOrEqual(2);
    }
    const simulate = entries('simulate').byFlag;
    for (const f of SIMULATE_FLAGS) {
      const entry = simulate.get(`--${f.name}`);
      expect(entry, f.name).toBeDefined();
      if (f.default !== undefined) expect(entry, f.name).toContain(`(default: ${f.default})`);
    }
    // A default that differs between the commands: each shows its own.
    expect(entries('serve').byFlag.get('--jitter')).toContain('(default: 0.03)');
    expect(simulate.get('--jitter')).toContain('(default: 0)');
    // The models an unknown --model is pointed to.
    expect(simulate.get('--model')).toContain('meta/llama-3.1-405b-instruct');
  });

  it('exits 2 with one line for a bad LoRA setting: a missing NIM_PEFT_SOURCE, a rank vLLM does not take', () => {
    const missing = run(['serve', '--port', '0', '--peft-source', '/nonexistent/loras']);
    expect(missing.status).toBe(2);
    expect(missing.stderr.trim().split('\n')).toHaveLength(1);
    expect(missing.stderr).toContain('--peft-source=/nonexistent/loras: ');
    const rank = run(['serve'], { NIM_MAX_LORA_RANK: '24' });
    expect(rank.status).toBe(2);
    expect(rank.stderr.trim().split('\n')).toHaveLength(1);
    expect(rank.stderr).toContain('NIM_MAX_LORA_RANK=24: ');
    const loras = run(['serve', '--max-gpu-loras', '0']);
    expect(loras.status).toBe(2);
    expect(loras.stderr).toContain('--max-gpu-loras');
  });

  it('exits 2 with one line for a LoRA workload flag without --loras, or --loras with a trace', () => {
    const zipf = run(['simulate', '--lora-zipf', '0']);
    expect(zipf.status).toBe(2);
    expect(zipf.stderr.trim()).toBe('nimsim: --lora-zipf=0: needs --loras');
    const zero = run(['simulate', '--loras', '0']);
    expect(zero.status).toBe(2);
    expect(zero.stderr).toContain('--loras');
    const trace = run(['simulate', '--loras', '4', '--trace', '/nonexistent.jsonl']);
    expect(trace.status).toBe(2);
    expect(trace.stderr.trim()).toMatch(/^nimsim: --loras=4: not read with --trace/);
  });

  it('exits 2 with one line for a bad KV-events endpoint, or a replay endpoint without one', () => {
    const bad = run(['serve'], { NIMSIM_KV_EVENTS_ENDPOINT: 'localhost:5557' });
    expect(bad.status).toBe(2);
    expect(bad.stderr.trim().split('\n')).toHaveLength(1);
    expect(bad.stderr).toContain('NIMSIM_KV_EVENTS_ENDPOINT');
    const replayAlone = run(['serve', '--port', '0', '--kv-events-replay-endpoint', 'tcp://127.0.0.1:5558']);
    expect(replayAlone.status).toBe(2);
    expect(replayAlone.stderr.trim().split('\n')).toHaveLength(1);
    expect(replayAlone.stderr).toContain(
      '--kv-events-replay-endpoint=tcp://127.0.0.1:5558: needs --kv-events-endpoint',
    );
  });

  it('exits 2 with one line naming --port when the port is taken, and --host when it is not ours', async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const port = (taken.address() as AddressInfo).port;
    try {
      const r = run(['serve', '--host', '127.0.0.1', '--port', String(port)]);
      expect(r.status).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toContain(`--port=${port}: already in use`);
    } finally {
      taken.close();
    }
    // TEST-NET-1 (RFC 5737): never an address of this machine.
    const host = run(['serve', '--host', '192.0.2.1', '--port', '0']);
    expect(host.status).toBe(2);
    expect(host.stderr.trim().split('\n')).toHaveLength(1);
    expect(host.stderr).toContain('--host=192.0.2.1: not an address of this machine');
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

  it('refuses a concurrency far beyond what the server holds, and a flag the chosen mode does not read', () => {
    const refusals: [args: string[], says: string][] = [
      [
        ['--concurrency', '20000', '--requests', '20000', '--input-tokens', '10', '--output-tokens', '10'],
        '--concurrency=20000: over 10× the 1280 requests the server holds at once',
      ],
      [
        ['--concurrency', '3000', '--requests', '3000', '--max-num-seqs', '64', '--max-waiting', '200'],
        '--concurrency=3000: over 10× the 264 requests the server holds at once',
      ],
      [
        [
          '--trace',
          fileURLToPath(new URL('../../load-tests/traces/sample.jsonl', import.meta.url)),
          '--concurrency',
          '8',
        ],
        "--concurrency=8: not read with --trace: the trace's lines set the lengths",
      ],
      [['--trace', '/no/such/file', '--input-tokens', '10'], '--input-tokens=10: not read with --trace'],
      [['--request-rate', '5', '--concurrency', '50'], '--concurrency=50: not read with --request-rate'],
      [['--trace-block-size', '64'], '--trace-block-size=64: needs --trace'],
      [['--user-zipf', '2'], '--user-zipf=2: needs --tenants'],
    ];
    for (const [args, says] of refusals) {
      const r = run(['simulate', ...args]);
      const line = r.stderr.trimEnd();
      expect(r.status, line).toBe(2);
      expect(line.split('\n'), line).toHaveLength(1);
      expect(line, args.join(' ')).toContain(`nimsim: ${says}`);
      expect(line.length, line).toBeLessThan(180);
    }
    // Sessions beyond --requests never start: a huge concurrency with few requests just runs, and
    // its report is the one of as many sessions as requests. Piped stderr gets no progress line.
    const few = run(['simulate', '--json', '--concurrency', '100000', '--requests', '50']);
    expect(few.status).toBe(0);
    expect(few.stderr).toBe('');
    const asMany = run(['simulate', '--json', '--concurrency', '50', '--requests', '50']);
    const strip = (text: string) => {
      const { wall_s: _w, speedup: _s, ...rest } = JSON.parse(text) as Record<string, unknown>;
      return rest;
    };
    expect(strip(few.stdout)).toEqual(strip(asMany.stdout));
  });

  it('exits 2 with one line when a simulate workload cannot fit the context', () => {
    const r = run(['simulate', '--kv-cache-blocks', '20', '--input-tokens', '200', '--output-tokens', '200']);
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain('needs up to 400 tokens');
    expect(r.stderr).toContain('context length of 320 tokens');
    expect(r.stderr.trimEnd().length).toBeLessThan(160);
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

  it('writes simulate --html FILE beside an unchanged JSON report, and exits 2 for a file it cannot write', () => {
    const dir = mkdtempSync(join(tmpdir(), 'nimsim-html-'));
    try {
      const file = join(dir, 'run.html');
      const args = ['simulate', '--requests', '40', '--concurrency', '4', '--json'];
      const plain = run(args);
      const withHtml = run([...args, '--html', file]);
      expect(withHtml.status).toBe(0);
      const stable = (out: string) => ({ ...(JSON.parse(out) as object), wall_s: 0, speedup: 0 });
      expect(stable(withHtml.stdout)).toEqual(stable(plain.stdout));
      const html = readFileSync(file, 'utf8');
      expect(html.startsWith('<!doctype html>')).toBe(true);
      expect(html).toContain('id="data"');
      const bad = run(['simulate', '--requests', '5', '--html', join(dir, 'missing', 'run.html')]);
      expect(bad.status).toBe(2);
      expect(bad.stderr.trim().split('\n')).toHaveLength(1);
      expect(bad.stderr).toContain('--html');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('lists model profiles grouped by compatibility with 64-hex ids', () => {
    const r = run(['list-model-profiles', '--gpu', 'b200']);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('Compatible with system and runnable');
    expect(r.stdout).toMatch(/ {2}- [0-9a-f]{64} \(tensorrt_llm-b200-nvfp4-tp1-pp1-throughput\)/);
  });

  it('logs one warning with the lag figures when the host cannot keep up with the engine steps', async () => {
    const child = spawn(process.execPath, [CLI, 'serve', '--port', '0', '--time-scale', '1'], {
      env: { ...process.env, NIM_JSONL_LOGGING: '1' },
    });
    let log = '';
    child.stderr.on('data', (d: Buffer) => (log += d.toString()));
    try {
      const port = await new Promise<number>((resolve, reject) => {
        const onData = () => {
          const m = /"port":(\d+)/.exec(log);
          if (m) resolve(Number(m[1]));
        };
        child.stderr.on('data', onData);
        child.once('exit', (code) => reject(new Error(`exited ${code}: ${log}`)));
      });
      const res = await fetch(`http://127.0.0.1:${port}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          model: 'meta/llama-3.1-8b-instruct',
          messages: [{ role: 'user', content: 'hi' }],
          max_tokens: 400,
          ignore_eos: true,
          stream: true,
        }),
      });
      const reader = res.body!.getReader();
      await reader.read(); // the stream has started: the engine steps every few ms
      // A host that cannot keep up, twice: the process gets no CPU for 300 ms, so its next step
      // fires that late. The second stall is within the warning's 30 s: no second line.
      for (let i = 0; i < 2; i++) {
        child.kill('SIGSTOP');
        await new Promise((r) => setTimeout(r, 300));
        child.kill('SIGCONT');
        await reader.read();
        await new Promise((r) => setTimeout(r, 200));
      }
      while (!(await reader.read()).done);
      const warnings = log
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as Record<string, unknown>)
        .filter((l) => l['level'] === 'WARNING');
      expect(warnings, log).toHaveLength(1);
      expect(warnings[0]!['message']).toMatch(/^engine steps are running late: the host cannot keep up/);
      expect(warnings[0]).toMatchObject({ threshold_ms: 50 });
      expect(warnings[0]!['lag_ms']).toBeGreaterThan(50);
      expect(warnings[0]!['max_lag_ms']).toBeGreaterThanOrEqual(warnings[0]!['lag_ms'] as number);
      expect(warnings[0]!['late_steps']).toBeGreaterThanOrEqual(1);
    } finally {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGCONT');
        child.kill('SIGTERM');
        await exited;
      }
    }
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
