/**
 * Strings a model would write for a JSON Schema `string`: plain words, and values of the common
 * `format`s (date-time, date, time, email, uuid, uri, hostname, ipv4, ipv6, duration), seeded.
 */
import type { Random } from '../util/random.js';

const WORDS = [
  'alpha',
  'amber',
  'atlas',
  'basil',
  'beacon',
  'cedar',
  'cobalt',
  'delta',
  'ember',
  'falcon',
  'garnet',
  'harbor',
  'indigo',
  'juniper',
  'kepler',
  'lumen',
  'maple',
  'nova',
  'onyx',
  'orbit',
  'pixel',
  'quartz',
  'raven',
  'sierra',
  'solar',
  'tango',
  'umber',
  'vector',
  'willow',
  'zephyr',
];
const TLDS = ['com', 'org', 'net', 'io', 'dev'];

export interface StringFormats {
  /** One word of the small vocabulary. */
  word(): string;
  /** A value of `format`, or undefined for a format not generated (the caller writes words). */
  formatted(format: string): string | undefined;
}

export function createStringFormats(rng: Random): StringFormats {
  const pick = <T>(items: readonly T[]): T => items[rng.nextInt(items.length)]!;
  const int = (lo: number, hi: number): number => lo + rng.nextInt(hi - lo + 1);
  const hex = (n: number): string => {
    let out = '';
    for (let i = 0; i < n; i++) out += '0123456789abcdef'[rng.nextInt(16)];
    return out;
  };
  const pad = (n: number, width = 2): string => String(n).padStart(width, '0');

  const formatted = (format: string): string | undefined => {
    switch (format) {
      case 'date-time':
        return `${date()}T${time()}Z`;
      case 'date':
        return date();
      case 'time':
        return `${time()}Z`;
      case 'email':
        return `${pick(WORDS)}.${pick(WORDS)}@${pick(WORDS)}.${pick(TLDS)}`;
      case 'uuid':
        return `${hex(8)}-${hex(4)}-4${hex(3)}-${pick(['8', '9', 'a', 'b'])}${hex(3)}-${hex(12)}`;
      case 'uri':
      case 'url':
      case 'iri':
        return `https://${pick(WORDS)}.${pick(TLDS)}/${pick(WORDS)}`;
      case 'hostname':
      case 'idn-hostname':
        return `${pick(WORDS)}.${pick(WORDS)}.${pick(TLDS)}`;
      case 'ipv4':
        return [int(1, 254), int(0, 255), int(0, 255), int(1, 254)].join('.');
      case 'ipv6':
        return Array.from({ length: 8 }, () => hex(4)).join(':');
      case 'duration':
        return `P${int(1, 30)}D`;
      default:
        return undefined;
    }
  };
  const date = () => `${int(2000, 2030)}-${pad(int(1, 12))}-${pad(int(1, 28))}`;
  const time = () => `${pad(int(0, 23))}:${pad(int(0, 59))}:${pad(int(0, 59))}`;

  return { word: () => pick(WORDS), formatted };
}
