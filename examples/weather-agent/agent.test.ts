/**
 * The weather agent's own end-to-end test: a real nimsim process with `rules.yaml`, the official
 * openai client, and the app's tool loop. Inside this repository the process runs the CLI's source;
 * copied into a project that installed the nimsim package, it runs that package's `nimsim` binary
 * (.ci/package-check.mjs runs it that way).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { askAgent, type WeatherService } from './agent.js';

const MODEL = 'meta/llama-3.1-8b-instruct';
const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));
let nimsim: ChildProcess;
let baseURL: string;

/** The node arguments that run `nimsim`: this repository's source, else the installed package's bin. */
function nimsimCommand(): string[] {
  const source = here('../../src/cli.ts');
  if (existsSync(source)) return ['--import', 'tsx', source];
  const manifest = createRequire(import.meta.url).resolve('nimsim/package.json');
  const { bin } = JSON.parse(readFileSync(manifest, 'utf8')) as { bin: { nimsim: string } };
  return [join(dirname(manifest), bin.nimsim)];
}

/** Starts `nimsim serve` on a free port with the rules file; resolves with its base URL. */
function startNimsim(): Promise<string> {
  nimsim = spawn(process.execPath, [...nimsimCommand(), 'serve', '--port', '0', '--time-scale', '0'], {
    env: { ...process.env, NIMSIM_RULES_FILE: here('rules.yaml') },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  return new Promise((resolve, reject) => {
    let log = '';
    nimsim.stderr!.on('data', (chunk: Buffer) => {
      log += chunk.toString();
      const m = /serving .* on (http:\/\/127\.0\.0\.1:\d+)/.exec(log);
      if (m) resolve(`${m[1]}/v1`);
    });
    nimsim.once('exit', (code) => reject(new Error(`nimsim exited ${code}: ${log}`)));
  });
}

beforeAll(async () => {
  baseURL = await startNimsim();
}, 30_000);
afterAll(() => {
  nimsim.kill('SIGTERM');
});

const fakeWeather = (): WeatherService & { asked: string[] } => {
  const asked: string[] = [];
  return {
    asked,
    current: (city) => {
      asked.push(city);
      return { city, temperature_c: 21, sky: 'clear' };
    },
  };
};

describe('weather agent against nimsim rules', () => {
  it('calls get_weather with the city from the question and answers with its result', async () => {
    const client = new OpenAI({ baseURL, apiKey: 'not-used' });
    const weather = fakeWeather();
    const result = await askAgent(client, MODEL, 'What is the weather in Oslo today?', weather);
    expect(weather.asked).toEqual(['Oslo']);
    expect(result.calls).toEqual([{ name: 'get_weather', args: { city: 'Oslo' } }]);
    expect(result.answer).toBe('Here is what I found: {"city":"Oslo","temperature_c":21,"sky":"clear"}');
  });

  it('answers small talk without calling the tool', async () => {
    const client = new OpenAI({ baseURL, apiKey: 'not-used' });
    const weather = fakeWeather();
    const result = await askAgent(client, MODEL, 'Hi there!', weather);
    expect(result).toEqual({ answer: 'I can tell you the weather.', calls: [] });
    expect(weather.asked).toEqual([]);
  });

  it('surfaces an outage as the client error the app sees from a real NIM', async () => {
    const client = new OpenAI({
      baseURL,
      apiKey: 'not-used',
      maxRetries: 0,
      defaultHeaders: { 'x-test-scenario': 'outage' },
    });
    const error = await askAgent(client, MODEL, 'What is the weather in Oslo?', fakeWeather()).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(OpenAI.InternalServerError);
    expect((error as InstanceType<typeof OpenAI.InternalServerError>).status).toBe(503);
  });
});
