/**
 * The calibration error chart: one row per table, each point's error (simulated / published − 1)
 * as a dot coloured by metric, with the ±15 % and ±25 % bands. Plain SVG, no dependency.
 */
import type { Comparison } from './evaluate.js';

const COLOURS: Readonly<Record<string, string>> = {
  throughput: '#1f77b4',
  itl: '#2ca02c',
  ttft: '#ff7f0e',
  latency: '#9467bd',
};

export function errorChart(comparisons: readonly Comparison[], tables: readonly string[]): string {
  const rowH = 22;
  const left = 330;
  const width = 900;
  const plotW = width - left - 20;
  const top = 40;
  const height = top + rowH * tables.length + 40;
  const min = -1;
  const max = 1;
  const x = (e: number) => left + ((Math.max(min, Math.min(max, e)) - min) / (max - min)) * plotW;
  const parts: string[] = [];
  parts.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="11">`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
    `<text x="${left}" y="16" font-size="13">simulated / published − 1 (clipped at ±100 %); bands ±15 % and ±25 %</text>`,
    `<rect x="${x(-0.25)}" y="${top - 6}" width="${x(0.25) - x(-0.25)}" height="${rowH * tables.length}" fill="#f3f3f3"/>`,
    `<rect x="${x(-0.15)}" y="${top - 6}" width="${x(0.15) - x(-0.15)}" height="${rowH * tables.length}" fill="#e3e3e3"/>`,
  );
  for (const tick of [-1, -0.5, -0.25, 0, 0.25, 0.5, 1]) {
    const tx = x(tick);
    parts.push(
      `<line x1="${tx}" y1="${top - 6}" x2="${tx}" y2="${top - 6 + rowH * tables.length}" stroke="#bbb" stroke-width="${tick === 0 ? 1.5 : 0.5}"/>`,
      `<text x="${tx}" y="${top + rowH * tables.length + 10}" text-anchor="middle">${Math.round(tick * 100)} %</text>`,
    );
  }
  tables.forEach((table, i) => {
    const y = top + i * rowH + rowH / 2 - 6;
    parts.push(`<text x="${left - 8}" y="${y + 4}" text-anchor="end">${table}</text>`);
    for (const c of comparisons.filter((k) => k.table === table)) {
      const e = c.simulated / c.published - 1;
      parts.push(
        `<circle cx="${x(e).toFixed(1)}" cy="${y}" r="3.5" fill="${COLOURS[c.metric] ?? '#000'}" fill-opacity="0.7"><title>${c.label} ${c.metric}: ${(100 * e).toFixed(1)} %</title></circle>`,
      );
    }
  });
  let lx = left;
  for (const [metric, colour] of Object.entries(COLOURS)) {
    parts.push(
      `<circle cx="${lx}" cy="${height - 12}" r="4" fill="${colour}"/><text x="${lx + 8}" y="${height - 8}">${metric}</text>`,
    );
    lx += 110;
  }
  parts.push('</svg>');
  return parts.join('\n') + '\n';
}
