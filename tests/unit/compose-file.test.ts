/**
 * grafana/docker-compose.yml against the Compose Specification's JSON schema, vendored unchanged
 * in tests/unit/schemas/compose-spec.json from
 * https://github.com/compose-spec/compose-spec/blob/170098ba07d9f53c383a41bfd4c5166b0a4529a6/schema/compose-spec.json
 * (the schema `docker compose config` validates with), and the settings the stack relies on.
 */
import { readFileSync } from 'node:fs';
import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { DRAIN_TIMEOUT_MS } from '../../src/server.js';

const read = (p: string) => readFileSync(new URL(`../../${p}`, import.meta.url), 'utf8');

/**
 * The schema's `$schema` is draft-07 at an https address Ajv does not know its meta-schema by
 * (Ajv's draft-07 is the http one), so the schema itself is not meta-validated; its rules apply.
 */
const validate = new Ajv({ allErrors: true, strict: false, validateSchema: false }).compile(
  JSON.parse(read('tests/unit/schemas/compose-spec.json')) as object,
);

/** A Compose duration ('45s', '1m30s', '1.5s') in seconds. */
function durationSeconds(value: string): number {
  const units: Record<string, number> = { h: 3600, m: 60, s: 1, ms: 0.001, us: 1e-6 };
  const parts = [...value.matchAll(/(\d+(?:\.\d+)?)(h|ms|m|s|us)/g)];
  if (parts.map((p) => p[0]).join('') !== value) throw new Error(`not a duration: ${value}`);
  return parts.reduce((sum, p) => sum + Number(p[1]) * units[p[2]!]!, 0);
}

describe('grafana/docker-compose.yml', () => {
  const compose = parse(read('grafana/docker-compose.yml')) as {
    services: Record<string, { stop_grace_period?: string; build?: { context: string } }>;
  };

  it('is valid against the Compose Specification schema', () => {
    const ok = validate(compose);
    expect(validate.errors ?? [], JSON.stringify(validate.errors, null, 1)).toEqual([]);
    expect(ok).toBe(true);
  });

  it('rejects what the schema forbids (the check is not vacuous)', () => {
    expect(validate({ services: { nimsim: { image: 'nimsim', stop_grace_period: 45 } } })).toBe(false);
    expect(validate({ services: { nimsim: { image: 'nimsim', not_a_field: true } } })).toBe(false);
  });

  it("gives nimsim's 30 s drain time before Compose sends SIGKILL, and builds it from this repository", () => {
    const nimsim = compose.services['nimsim']!;
    expect(durationSeconds(nimsim.stop_grace_period ?? '10s')).toBeGreaterThan(DRAIN_TIMEOUT_MS / 1000);
    expect(nimsim.build?.context).toBe('..');
  });
});
