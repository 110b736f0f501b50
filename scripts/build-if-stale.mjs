// `npm start` builds only when a source is newer than the build: a full `tsc` takes ~25 s on a
// small machine, and starting the server should not wait for it when nothing changed.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import process from 'node:process';

const newest = (dir) => {
  let latest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) latest = Math.max(latest, statSync(join(entry.parentPath, entry.name)).mtimeMs);
  }
  return latest;
};

let built = 0;
try {
  built = statSync('dist/cli.js').mtimeMs;
} catch {
  // never built
}
const sources = Math.max(
  newest('src'),
  ...['package.json', 'tsconfig.json', 'tsconfig.build.json'].map((f) => statSync(f).mtimeMs),
);
if (built > sources) process.exit(0);
const r = spawnSync('npm', ['run', 'build'], { stdio: 'inherit', shell: process.platform === 'win32' });
process.exit(r.status ?? 1);
