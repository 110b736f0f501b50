/**
 * The source tree's layers, read from the import statements of every file under src/: the engine
 * is pure (no HTTP, validation or metrics package, nothing from the rest of nimsim), and its KV
 * cache is its own business (the rest talks to the engine's facade). Above it, a request goes
 * route (src/api/routes) → serving (src/serving) → engine and never back: the serving layer knows
 * no HTTP, the routes reach the engine only through it and do not import one another, src/api/
 * leaves OpenAI formatting to the serving layer, and one adapter file reaches below Hono.
 * docs/architecture.md draws the same layers.
 *
 * A rule names the files it applies to and the imports it forbids them; to add a layer's rule,
 * add an entry to RULES.
 * Imports are found by TypeScript's own pre-processor: `import type`, `export … from`, bare
 * `import 'x'` and `import('x')` all count; comments and strings do not.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { posix } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

/** One import of one file. */
interface Import {
  /** The importing file, relative to the repository (`src/…`). */
  readonly file: string;
  /** The specifier as written. */
  readonly specifier: string;
  /** For a relative specifier, the path it names relative to the repository (`src/…/x.js`). */
  readonly path?: string;
  /** For a bare specifier, the package (`@scope/name`, `name`, or `node:fs`). */
  readonly pkg?: string;
}

interface Rule {
  readonly name: string;
  readonly appliesTo: (file: string) => boolean;
  readonly forbids: (imp: Import) => boolean;
}

const under = (dir: string) => (path: string | undefined) => path !== undefined && path.startsWith(dir);
const inEngine = under('src/engine/');
const inKvCache = under('src/engine/kv-cache/');
const inApi = under('src/api/');
const inRoutes = under('src/api/routes/');
const inServing = under('src/serving/');
const inUtil = under('src/util/');

/** The serving layer's OpenAI and Anthropic response formatting: what src/api/ must leave to it. */
const FORMATTERS = [
  'src/serving/chat-format.js',
  'src/serving/completion-logprobs.js',
  'src/serving/usage.js',
  'src/serving/stream-ending.js',
  'src/serving/nim-stats.js',
  'src/serving/protocol.js',
  'src/serving/messages-format.js',
  'src/serving/messages-stream.js',
];

/** Client packages whose types describe response shapes (the serving layer's business). */
const CLIENT_PACKAGES = new Set(['openai', '@anthropic-ai/sdk']);

/** The one file that may reach below Hono to @hono/node-server's Node request and response. */
const NODE_ADAPTER = 'src/api/http/node-adapter.ts';

/**
 * Packages the engine may use: plain data structures. (The KV cache's host tier is an LRU map on
 * `lru-cache`.) Anything else, and hono, zod and prom-client above all, belongs to the layers above.
 */
const ENGINE_PACKAGES = new Set(['lru-cache']);

const RULES: readonly Rule[] = [
  {
    name: 'nothing outside src/engine/ imports from src/engine/kv-cache/ (it talks to the engine)',
    appliesTo: (file) => !inEngine(file),
    forbids: (imp) => inKvCache(imp.path),
  },
  {
    name: 'src/engine/ imports nothing from the rest of src/',
    appliesTo: inEngine,
    forbids: (imp) => imp.path !== undefined && !inEngine(imp.path),
  },
  {
    name: `src/engine/ imports no package but ${[...ENGINE_PACKAGES].join(', ')} (no hono, zod, prom-client)`,
    appliesTo: inEngine,
    forbids: (imp) => imp.pkg !== undefined && !ENGINE_PACKAGES.has(imp.pkg),
  },
  {
    // A request's body goes route → serving → engine and never comes back to src/api/.
    name: 'src/serving/ imports nothing from src/api/ (it knows no HTTP)',
    appliesTo: inServing,
    forbids: (imp) => inApi(imp.path) || imp.pkg === 'hono' || imp.pkg === '@hono/node-server',
  },
  {
    name: 'src/api/routes/ reach the engine only through src/serving/ (no import from src/engine/)',
    appliesTo: inRoutes,
    forbids: (imp) => inEngine(imp.path),
  },
  {
    name: 'src/api/routes/ do not import one another',
    appliesTo: inRoutes,
    forbids: (imp) => inRoutes(imp.path),
  },
  {
    name: 'src/api/ does no OpenAI or Anthropic response formatting (no serving formatter, no client type)',
    appliesTo: inApi,
    forbids: (imp) => FORMATTERS.includes(imp.path ?? '') || CLIENT_PACKAGES.has(imp.pkg ?? ''),
  },
  {
    name: `in src/api/ and src/serving/, only ${NODE_ADAPTER} uses @hono/node-server`,
    appliesTo: (file) => (inApi(file) || inServing(file)) && file !== NODE_ADAPTER,
    forbids: (imp) => imp.pkg === '@hono/node-server',
  },
  {
    name: 'src/util/ imports nothing from the rest of src/ (shared helpers are the bottom layer)',
    appliesTo: inUtil,
    forbids: (imp) => imp.path !== undefined && !inUtil(imp.path),
  },
];

function importsOf(file: string, source: string): Import[] {
  return ts.preProcessFile(source, true, true).importedFiles.map(({ fileName: specifier }) => {
    if (specifier.startsWith('.')) {
      return { file, specifier, path: posix.normalize(posix.join(posix.dirname(file), specifier)) };
    }
    const parts = specifier.split('/');
    const pkg = specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!;
    return { file, specifier, pkg };
  });
}

/** Every import that breaks `rule`, as `file → specifier`. */
function violations(rule: Rule, imports: readonly Import[]): string[] {
  return imports
    .filter((imp) => rule.appliesTo(imp.file) && rule.forbids(imp))
    .map((imp) => `${imp.file} → ${imp.specifier}`);
}

const SOURCES = readdirSync('src', { recursive: true, encoding: 'utf8' })
  .filter((name) => name.endsWith('.ts'))
  .map((name) => `src/${name.split('\\').join('/')}`)
  .sort();
const IMPORTS = SOURCES.flatMap((file) => importsOf(file, readFileSync(file, 'utf8')));

describe('layering', () => {
  for (const rule of RULES) {
    it(rule.name, () => {
      expect(violations(rule, IMPORTS)).toEqual([]);
    });
  }

  it(`only ${NODE_ADAPTER} reads the Node request and response (c.env) in src/api/ and src/serving/`, () => {
    const readers = SOURCES.filter(
      (file) => (inApi(file) || inServing(file)) && /\bc\.env\b/.test(readFileSync(file, 'utf8')),
    );
    expect(readers).toEqual([NODE_ADAPTER]);
  });

  it('reads every kind of import, and only imports', () => {
    const source = [
      "import type { KvCacheStats } from '../engine/kv-cache/kv-cache-manager.js';",
      "import {\n  Counter,\n  type Registry,\n} from 'prom-client';",
      "export { z } from 'zod';",
      "import '@hono/node-server/vercel';",
      "const lazy = await import('node:fs');",
      "// import { x } from '../engine/kv-cache/block-pool.js';",
      'const text = "import { y } from \'hono\'";',
    ].join('\n');
    expect(importsOf('src/metrics/example.ts', source)).toEqual([
      {
        file: 'src/metrics/example.ts',
        specifier: '../engine/kv-cache/kv-cache-manager.js',
        path: 'src/engine/kv-cache/kv-cache-manager.js',
      },
      { file: 'src/metrics/example.ts', specifier: 'prom-client', pkg: 'prom-client' },
      { file: 'src/metrics/example.ts', specifier: 'zod', pkg: 'zod' },
      { file: 'src/metrics/example.ts', specifier: '@hono/node-server/vercel', pkg: '@hono/node-server' },
      { file: 'src/metrics/example.ts', specifier: 'node:fs', pkg: 'node:fs' },
    ]);
  });

  it('catches what each rule forbids', () => {
    const examples = [
      ...importsOf(
        'src/metrics/snapshot.ts',
        "import type { KvCacheManager } from '../engine/kv-cache/kv-cache-manager.js';",
      ),
      ...importsOf(
        'src/engine/kv-cache/block-pool.ts',
        "import type { Config } from '../../config/config.js';",
      ),
      ...importsOf('src/engine/scheduler.ts', "import { z } from 'zod';\nimport { Hono } from 'hono';"),
      // Allowed: the engine's own files, its data-structure package, and the engine's facade from outside.
      ...importsOf(
        'src/engine/engine.ts',
        "import { createKvCacheManager } from './kv-cache/kv-cache-manager.js';",
      ),
      ...importsOf('src/engine/kv-cache/host-tier.ts', "import { LRUCache } from 'lru-cache';"),
      ...importsOf('src/runtime.ts', "import { createEngine } from './engine/engine.js';"),
      ...importsOf(
        'src/serving/chat.ts',
        "import { noteUsage } from '../api/http/request-log.js';\nimport type { Context } from 'hono';",
      ),
      ...importsOf(
        'src/api/routes/tokenize.ts',
        "import type { Engine } from '../../engine/engine.js';\nimport { renderPrompt } from './chat.js';",
      ),
      ...importsOf(
        'src/api/http/sse.ts',
        [
          "import type { ChatCompletionChunk } from 'openai/resources/chat/completions';",
          "import { chunkHeader } from '../../serving/chat-format.js';",
          "import { RESPONSE_ALREADY_SENT } from '@hono/node-server/utils/response';",
          "import type { Message } from '@anthropic-ai/sdk/resources/messages';",
        ].join('\n'),
      ),
      ...importsOf('src/util/sleep.ts', "import { ApiError } from '../serving/errors.js';"),
      // Allowed: a route through the serving layer, the adapter below Hono, serving on the engine.
      ...importsOf('src/api/routes/chat.ts', "import { serveChat } from '../../serving/chat.js';"),
      ...importsOf(NODE_ADAPTER, "import { RESPONSE_ALREADY_SENT } from '@hono/node-server/utils/response';"),
      ...importsOf('src/serving/run-generation.ts', "import type { Engine } from '../engine/engine.js';"),
    ];
    expect(RULES.map((rule) => violations(rule, examples))).toEqual([
      ['src/metrics/snapshot.ts → ../engine/kv-cache/kv-cache-manager.js'],
      ['src/engine/kv-cache/block-pool.ts → ../../config/config.js'],
      ['src/engine/scheduler.ts → zod', 'src/engine/scheduler.ts → hono'],
      ['src/serving/chat.ts → ../api/http/request-log.js', 'src/serving/chat.ts → hono'],
      ['src/api/routes/tokenize.ts → ../../engine/engine.js'],
      ['src/api/routes/tokenize.ts → ./chat.js'],
      [
        'src/api/http/sse.ts → openai/resources/chat/completions',
        'src/api/http/sse.ts → ../../serving/chat-format.js',
        'src/api/http/sse.ts → @anthropic-ai/sdk/resources/messages',
      ],
      ['src/api/http/sse.ts → @hono/node-server/utils/response'],
      ['src/util/sleep.ts → ../serving/errors.js'],
    ]);
  });

  it('reads the whole tree', () => {
    expect(SOURCES).toContain('src/engine/engine.ts');
    expect(SOURCES).toContain('src/engine/kv-cache/kv-cache-manager.ts');
    expect(IMPORTS).toContainEqual({
      file: 'src/runtime.ts',
      specifier: './engine/engine.js',
      path: 'src/engine/engine.js',
    });
  });
});
