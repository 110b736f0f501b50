/**
 * Every relative link in the README and the docs pages leads somewhere: the file (or folder) exists,
 * and an anchor into a markdown page names one of its headings, slugged as GitHub slugs them.
 * Links inside code (fenced blocks, inline code) are not links and are skipped.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..');

const PAGES = [
  'README.md',
  ...readdirSync(join(ROOT, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`),
  'load-tests/README.md',
  'deploy/k8s/README.md',
  'examples/weather-agent/README.md',
];

/** The page's text outside fenced code blocks and inline code spans. */
function prose(text: string): string {
  return text.replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, '').replace(/`[^`\n]*`/g, '');
}

/** GitHub's heading anchor: lower case, punctuation dropped, spaces to hyphens; repeats get -1, -2. */
function anchorsOf(text: string): Set<string> {
  const seen = new Map<string, number>();
  const anchors = new Set<string>();
  const outsideFences = text.replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, '');
  for (const m of outsideFences.matchAll(/^#{1,6}\s+(.+?)\s*#*\s*$/gm)) {
    const title = m[1]!
      .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1') // a link keeps its text
      .replace(/[`*_]/g, '');
    const base = title
      .trim()
      .toLowerCase()
      .replace(/[^\p{L}\p{M}\p{N}\p{Pc}\- ]/gu, '')
      .replace(/ /g, '-');
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    anchors.add(n === 0 ? base : `${base}-${n}`);
  }
  return anchors;
}

/** Relative link targets of a page: markdown links and images, without external URLs. */
function relativeLinks(text: string): string[] {
  const targets: string[] = [];
  for (const m of prose(text).matchAll(/!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) {
    const target = m[1]!;
    if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // http:, https:, mailto:
    targets.push(target);
  }
  return targets;
}

describe('relative links in the README and docs/', () => {
  it('finds the pages and their links', () => {
    for (const page of PAGES) expect(existsSync(join(ROOT, page)), page).toBe(true);
    expect(relativeLinks(readFileSync(join(ROOT, 'README.md'), 'utf8')).length).toBeGreaterThan(10);
  });

  it('slugs headings as GitHub does', () => {
    expect([...anchorsOf('# The HTTP API (`serve`)\n## Scripted replies (rules)\n## A\n## A\n')]).toEqual([
      'the-http-api-serve',
      'scripted-replies-rules',
      'a',
      'a-1',
    ]);
  });

  for (const page of PAGES) {
    it(`${page}: every relative link resolves`, () => {
      const text = readFileSync(join(ROOT, page), 'utf8');
      const broken: string[] = [];
      for (const link of relativeLinks(text)) {
        const [path, anchor] = link.split('#', 2) as [string, string | undefined];
        const file = path === '' ? join(ROOT, page) : join(ROOT, dirname(page), decodeURI(path));
        if (!existsSync(file)) {
          broken.push(`${link}: no ${relative(ROOT, file)}`);
          continue;
        }
        if (anchor === undefined || anchor === '' || !file.endsWith('.md') || statSync(file).isDirectory())
          continue;
        if (!anchorsOf(readFileSync(file, 'utf8')).has(anchor))
          broken.push(`${link}: no heading #${anchor} in ${relative(ROOT, file)}`);
      }
      expect(broken).toEqual([]);
    });
  }
});
