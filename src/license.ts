/** nimsim's license file, read once from the package root (one level above src/ and dist/). */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';

export interface LicenseFile {
  readonly name: string;
  readonly path: string;
  readonly content: string;
  readonly sha: string;
  readonly size: number;
  readonly url: string;
}

export function readLicense(): LicenseFile | undefined {
  try {
    const content = readFileSync(new URL('../LICENSE', import.meta.url), 'utf8');
    return {
      name: 'Apache-2.0',
      path: 'LICENSE',
      content,
      sha: createHash('sha256').update(content).digest('hex'),
      size: Buffer.byteLength(content),
      url: 'https://www.apache.org/licenses/LICENSE-2.0',
    };
  } catch {
    return undefined;
  }
}
