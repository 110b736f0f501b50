/**
 * The source tree's layers, read from the import statements of every file under src/: the engine
 * is pure (no HTTP, validation or metrics package, nothing from the rest of nimsim), and its KV
 * cache is its own business (the rest talks to the engine's facade).
 *
 * A rule names the files it applies to and the imports it forbids them; to add a layer's rule
 * (e.g. routes reach the engine only through the serving layer), add an entry to RULES.
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
    ];
    expect(RULES.map((rule) => violations(rule, examples))).toEqual([
      ['src/metrics/snapshot.ts → ../engine/kv-cache/kv-cache-manager.js'],
      ['src/engine/kv-cache/block-pool.ts → ../../config/config.js'],
      ['src/engine/scheduler.ts → zod', 'src/engine/scheduler.ts → hono'],
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
