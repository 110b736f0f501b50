#!/usr/bin/env node
/* global URL, setTimeout, console, process, fetch */
// nimsim as another project uses it: `npm pack` here, `npm install <tarball>` in a fresh project,
// then from that project
//   1. `npx nimsim serve` answers a chat request and exits 0 on SIGTERM;
//   2. `import { startNimsim } from 'nimsim'` starts and closes a server in-process, and its
//      declarations type-check through the package's `exports`;
//   3. examples/weather-agent's own test passes against the installed package's binary;
//   4. `npm install git+file://<this repository>#HEAD` builds it through `prepare`.
// Only the package's runtime dependencies may be installed (plus the test tools asked for here).
// Bounded to 3 minutes; most of it is `npm install` from the registry.
import { spawn, execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, mkdirSync, readFileSync, rmSync, existsSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stripVTControlCharacters } from 'node:util';

const repo = new URL('..', import.meta.url).pathname;
const started = Date.now();
const elapsed = () => `${((Date.now() - started) / 1000).toFixed(1)} s`;
const children = new Set();
const deadline = setTimeout(() => fail('timed out after 180 s'), 180_000);
deadline.unref();
const work = mkdtempSync(join(tmpdir(), 'nimsim-package-'));

function fail(message) {
  console.error(`package check: FAIL: ${message}`);
  for (const c of children) {
    try {
      process.kill(-c.pid, 'SIGKILL');
    } catch {
      c.kill('SIGKILL');
    }
  }
  rmSync(work, { recursive: true, force: true });
  process.exit(1);
}
const log = (message) => console.log(`package check: ${message} (${elapsed()})`);

function run(cmd, args, cwd, what) {
  try {
    return execFileSync(cmd, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (err) {
    fail(`${what} failed:\n${err.stdout ?? ''}${err.stderr ?? ''}`);
  }
}

/** A port free right now on 127.0.0.1. */
const freePort = () =>
  new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });

async function chat(base) {
  const res = await fetch(`${base}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      model: 'meta/llama-3.1-8b-instruct',
      messages: [{ role: 'user', content: 'Hello!' }],
      max_tokens: 8,
    }),
  });
  const body = await res.json();
  if (
    res.status !== 200 ||
    typeof body?.choices?.[0]?.message?.content !== 'string' ||
    body.choices[0].message.content.length === 0 ||
    body.usage?.completion_tokens !== 8
  ) {
    fail(`chat answered ${res.status}: ${JSON.stringify(body)}`);
  }
  return body;
}

try {
  // --- the tarball: `npm pack` runs `prepare`, which builds only when a source is newer than dist/.
  const packed = JSON.parse(
    run('npm', ['pack', '--json', '--pack-destination', work], repo, 'npm pack').replace(/^[^[]*/, ''),
  )[0];
  const tarball = join(work, packed.filename);
  const shipped = packed.files.map((f) => f.path);
  for (const need of [
    'dist/cli.js',
    'dist/index.js',
    'dist/index.d.ts',
    'dist/ui/assets/live.js',
    'dist/ui/assets/ui.css',
    'package.json',
    'LICENSE',
  ]) {
    if (!shipped.includes(need)) fail(`the tarball lacks ${need}`);
  }
  const stray = shipped.filter(
    (p) =>
      !/^(dist\/.*\.(js|d\.ts|json)|dist\/ui\/assets\/[\w-]+\.css|package\.json|LICENSE|README\.md)$/.test(p),
  );
  if (stray.length > 0) fail(`the tarball ships files it should not: ${stray.slice(0, 10).join(', ')}`);
  log(`packed ${packed.filename}: ${shipped.length} files, ${(packed.size / 1e6).toFixed(2)} MB`);

  // --- a fresh project that installs it, with the example test's own tools.
  const app = join(work, 'app');
  mkdirSync(app);
  const ours = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8'));
  const lock = JSON.parse(readFileSync(join(repo, 'package-lock.json'), 'utf8'));
  const pinned = (name) => `${name}@${lock.packages[`node_modules/${name}`].version}`;
  writeFileSync(
    join(app, 'package.json'),
    JSON.stringify({ name: 'nimsim-consumer', private: true, type: 'module', overrides: ours.overrides }),
  );
  run(
    'npm',
    ['install', '--no-audit', '--no-fund', tarball, pinned('openai'), pinned('vitest')],
    app,
    'npm install <tarball>',
  );
  for (const devOnly of [
    'typescript',
    'tsx',
    'eslint',
    'prettier',
    'fast-check',
    'autocannon',
    'kubernetes-models',
  ]) {
    if (existsSync(join(app, 'node_modules', devOnly)))
      fail(`nimsim's dev dependency ${devOnly} was installed`);
  }
  for (const runtime of Object.keys(ours.dependencies)) {
    if (!existsSync(join(app, 'node_modules', runtime))) fail(`runtime dependency ${runtime} is missing`);
  }
  log('installed the tarball into a fresh project');

  // --- 1. the binary on the PATH of npm scripts / npx.
  const version = run('npx', ['--no-install', 'nimsim', '--version'], app, 'npx nimsim --version').trim();
  if (version !== ours.version) fail(`npx nimsim --version printed ${JSON.stringify(version)}`);
  const port = await freePort();
  // npx runs nimsim as its child and does not pass SIGTERM on, so the whole process group gets it,
  // as from a CI runner or a terminal's Ctrl-C; nimsim's log (the pipe it shares) then ends with
  // its graceful shutdown.
  const serve = spawn(
    'npx',
    ['--no-install', 'nimsim', 'serve', '--port', String(port), '--time-scale', '0'],
    {
      cwd: app,
      env: { PATH: process.env.PATH, HOME: process.env.HOME },
      stdio: ['ignore', 'ignore', 'pipe'],
      detached: true,
    },
  );
  children.add(serve);
  let serveLog = '';
  const logClosed = new Promise((resolve) => serve.stderr.once('close', resolve));
  await new Promise((resolve, reject) => {
    serve.stderr.on('data', (d) => {
      serveLog += d;
      if (serveLog.includes(`on http://127.0.0.1:${port}`)) resolve();
    });
    serve.once('exit', (code) => reject(new Error(`npx nimsim serve exited with ${code}:\n${serveLog}`)));
  }).catch((err) => fail(err.message));
  const base = `http://127.0.0.1:${port}`;
  const ready = await fetch(`${base}/v1/health/ready`);
  if (ready.status !== 200) fail(`/v1/health/ready answered ${ready.status}`);
  const body = await chat(base);
  // The live page is assembled from the assets the package ships (dist/ui/assets).
  const ui = await fetch(`${base}/ui`);
  const uiPage = await ui.text();
  if (ui.status !== 200 || !uiPage.includes('EventSource') || !uiPage.includes('.tiles'))
    fail(`GET /ui answered ${ui.status}: ${uiPage.slice(0, 200)}`);
  process.kill(-serve.pid, 'SIGTERM');
  await logClosed;
  children.delete(serve);
  if (!serveLog.includes('shutdown complete'))
    fail(`npx nimsim serve did not shut down gracefully:\n${serveLog}`);
  log(
    `npx nimsim serve --port ${port}: ready 200, chat 200 ("${body.choices[0].message.content}"), /ui 200, shut down on SIGTERM`,
  );

  // --- 2. the programmatic API, in JavaScript, and its declarations from TypeScript.
  const kvPort = await freePort();
  writeFileSync(
    join(app, 'api.mjs'),
    `import { startNimsim } from 'nimsim';
const nim = await startNimsim({ timeScale: 0, logLevel: 'WARNING', servedModelName: ['my-model'] });
const models = await (await fetch(nim.baseURL + '/models')).json();
const res = await fetch(nim.baseURL + '/chat/completions', {
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify({ model: 'my-model', messages: [{ role: 'user', content: 'Hi' }], max_tokens: 4 }),
});
const body = await res.json();
await nim.close();
const after = await fetch(nim.url + '/v1/health/live').then(() => 'still answering', () => 'closed');
// KV events load the zeromq runtime dependency (lazily): a publisher must bind and close.
const kv = await startNimsim({ timeScale: 0, logLevel: 'WARNING', kvEventsEndpoint: 'tcp://127.0.0.1:${kvPort}' });
const kvEvents = kv.server.kvEvents.length;
await kv.close();
console.log(JSON.stringify({ port: nim.port, models: models.data.map((m) => m.id), status: res.status, tokens: body.usage?.completion_tokens, after, kvEvents }));
`,
  );
  const apiOut = JSON.parse(run(process.execPath, ['api.mjs'], app, 'the programmatic API').trim());
  if (
    !(apiOut.port > 0) ||
    apiOut.models.join() !== 'my-model' ||
    apiOut.status !== 200 ||
    apiOut.tokens !== 4 ||
    apiOut.after !== 'closed' ||
    apiOut.kvEvents !== 1
  ) {
    fail(`the programmatic API: ${JSON.stringify(apiOut)}`);
  }
  writeFileSync(
    join(app, 'api-types.ts'),
    `import { startNimsim, type Nimsim, type NimsimSettings } from 'nimsim';
const settings: NimsimSettings = { gpu: 'h100-sxm', timeScale: 0, rulesFile: 'rules.yaml' };
export const started: Promise<Nimsim> = startNimsim(settings);
export const url: Promise<string> = started.then((n) => n.baseURL);
// @ts-expect-error an unknown setting is a type error
export const wrong = startNimsim({ notASetting: 1 });
`,
  );
  writeFileSync(
    join(app, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        module: 'NodeNext',
        moduleResolution: 'NodeNext',
        target: 'ES2022',
        strict: true,
        noEmit: true,
        skipLibCheck: true,
        typeRoots: [join(repo, 'node_modules/@types')],
        types: ['node'],
      },
      files: ['api-types.ts'],
    }),
  );
  run(
    process.execPath,
    [join(repo, 'node_modules/typescript/bin/tsc'), '-p', app],
    app,
    'tsc on the declarations',
  );
  log(
    `startNimsim: port ${apiOut.port}, chat 200, closed; KV events over zeromq; its declarations type-check`,
  );

  // --- 3. the example's own test, run from the project against the installed package.
  const example = join(app, 'weather-agent');
  cpSync(join(repo, 'examples/weather-agent'), example, { recursive: true });
  const tested = run(
    'npx',
    ['--no-install', 'vitest', 'run', '--root', example],
    app,
    "examples/weather-agent's test",
  );
  const passed = /Tests\s+(\d+) passed/.exec(stripVTControlCharacters(tested));
  if (!passed || /failed|skipped/.test(tested)) fail(`examples/weather-agent's test:\n${tested}`);
  log(`examples/weather-agent's test: ${passed[1]} passed against the installed package`);

  // --- 4. from git: npm clones the repository, installs its dev dependencies there and runs its
  // `prepare` (the build), then installs the result like a tarball. This clones the commit checked
  // out here (HEAD), so it checks what is committed.
  const fromGit = join(work, 'from-git');
  mkdirSync(fromGit);
  writeFileSync(
    join(fromGit, 'package.json'),
    JSON.stringify({ name: 'nimsim-git-consumer', private: true }),
  );
  const head = run('git', ['rev-parse', 'HEAD'], repo, 'git rev-parse HEAD').trim();
  run(
    'npm',
    ['install', '--no-audit', '--no-fund', `git+file://${repo}#${head}`],
    fromGit,
    'npm install <git url>',
  );
  for (const built of ['dist/cli.js', 'dist/index.js', 'dist/index.d.ts']) {
    if (!existsSync(join(fromGit, 'node_modules/nimsim', built))) fail(`installed from git without ${built}`);
  }
  if (existsSync(join(fromGit, 'node_modules/typescript')))
    fail('installed from git with its dev dependencies');
  const gitVersion = run(
    'npx',
    ['--no-install', 'nimsim', '--version'],
    fromGit,
    'npx nimsim (from git)',
  ).trim();
  if (gitVersion !== ours.version)
    fail(`npx nimsim --version (from git) printed ${JSON.stringify(gitVersion)}`);
  log(
    `installed from git (commit ${head.slice(0, 12)}): prepare built dist/, nimsim ${gitVersion} on the PATH`,
  );
  log('OK');
} finally {
  rmSync(work, { recursive: true, force: true });
}
