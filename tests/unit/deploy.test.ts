/** The Dockerfile and the Kubernetes example stay true to the settings and routes they name. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { loadConfig } from '../../src/config/config.js';
import { SETTINGS } from '../../src/config/settings.js';
import { DRAIN_TIMEOUT_MS } from '../../src/server.js';

const read = (p: string) => readFileSync(new URL(`../../${p}`, import.meta.url), 'utf8');
const SETTING_ENVS = new Set(Object.values(SETTINGS).map((d) => d.env));
// Not settings: downward-API values (the pod's own IP) that setting values expand as $(NAME).
const DOWNWARD_API_ENVS: Record<string, string> = { POD_IP: 'status.podIP' };

/** ENV lines of a Dockerfile (continuations joined) as name → value. */
function dockerEnv(dockerfile: string): Record<string, string> {
  const joined = dockerfile.replace(/\\\n\s*/g, ' ');
  const out: Record<string, string> = {};
  for (const line of joined.split('\n').filter((l) => l.startsWith('ENV '))) {
    for (const m of line.slice(4).matchAll(/(\w+)=("[^"]*"|\S+)/g)) out[m[1]!] = m[2]!.replace(/^"|"$/g, '');
  }
  return out;
}

describe('Dockerfile', () => {
  const dockerfile = read('Dockerfile');

  it('builds in one stage and runs production dependencies only, as a non-root user on port 8000', () => {
    expect(dockerfile.match(/^FROM node:\$\{NODE_VERSION\}-slim AS \w+$/gm)).toHaveLength(2);
    expect(dockerfile).toContain('RUN npm ci --omit=dev');
    expect(dockerfile).toContain('COPY --from=build /app/dist ./dist');
    expect(dockerfile).toMatch(/^USER node$/m);
    expect(dockerfile).toMatch(/^EXPOSE 8000$/m);
    expect(dockerfile).toMatch(/^HEALTHCHECK [\s\S]*\/v1\/health\/ready/m);
  });

  it('sets only real settings, listens on every interface and its defaults load', () => {
    const env = dockerEnv(dockerfile);
    expect(env['NIMSIM_HOST']).toBe('0.0.0.0');
    expect(env['NIM_SERVER_PORT']).toBe('8000');
    for (const name of Object.keys(env).filter((n) => n !== 'NODE_ENV'))
      expect(SETTING_ENVS, name).toContain(name);
    const config = loadConfig(env);
    expect([config.host, config.port, config.modelName]).toEqual([
      '0.0.0.0',
      8000,
      'meta/llama-3.1-8b-instruct',
    ]);
  });
});

describe('Kubernetes example', () => {
  const docs = parseAllDocuments(read('deploy/k8s/nimsim.yaml')).map((d) => d.toJS() as Record<string, any>); // eslint-disable-line @typescript-eslint/no-explicit-any
  const deployment = docs.find((d) => d['kind'] === 'Deployment')!;
  const pod = deployment['spec']['template'];
  const container = pod['spec']['containers'][0];

  it('probes liveness on /v1/health/live and readiness and startup on /v1/health/ready', () => {
    expect(container.livenessProbe.httpGet.path).toBe('/v1/health/live');
    expect(container.readinessProbe.httpGet.path).toBe('/v1/health/ready');
    expect(container.startupProbe.httpGet.path).toBe('/v1/health/ready');
  });

  it('gives the simulated model load time to finish before liveness counts', () => {
    const delayMs = Number(
      container.env.find((e: { name: string }) => e.name === 'NIMSIM_READY_DELAY_MS').value,
    );
    const startupBudgetMs =
      container.startupProbe.periodSeconds * container.startupProbe.failureThreshold * 1000;
    expect(startupBudgetMs).toBeGreaterThan(delayMs);
  });

  it('lets running streams drain (30 s) before the pod is killed, and is scraped by Prometheus', () => {
    expect(pod.spec.terminationGracePeriodSeconds).toBeGreaterThan(30);
    // The preStop pause counts against the grace period too.
    const [cmd, seconds] = container.lifecycle.preStop.exec.command as string[];
    expect(cmd).toBe('sleep');
    expect(Number(seconds)).toBeGreaterThan(0);
    expect(pod.spec.terminationGracePeriodSeconds).toBeGreaterThan(Number(seconds) + DRAIN_TIMEOUT_MS / 1000);
    expect(pod.metadata.annotations).toEqual({
      'prometheus.io/scrape': 'true',
      'prometheus.io/port': '8000',
      'prometheus.io/path': '/v1/metrics',
    });
  });

  it('runs as the restricted Pod Security profile asks: non-root, no capabilities, default seccomp', () => {
    expect(pod.spec.securityContext).toMatchObject({
      runAsNonRoot: true,
      seccompProfile: { type: 'RuntimeDefault' },
    });
    expect(container.securityContext).toEqual({
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ['ALL'] },
    });
  });

  it('runs several replicas behind one Service and sets only real settings', () => {
    expect(deployment['spec']['replicas']).toBeGreaterThan(1);
    expect(docs.find((d) => d['kind'] === 'Service')!['spec']['selector']).toEqual({ app: 'nimsim' });
    const literal: Record<string, string> = {};
    type Env = { name: string; value?: string; valueFrom?: { fieldRef?: { fieldPath: string } } };
    for (const e of container.env as Env[]) {
      if (e.name in DOWNWARD_API_ENVS) {
        expect(e.valueFrom?.fieldRef?.fieldPath, e.name).toBe(DOWNWARD_API_ENVS[e.name]);
        continue;
      }
      expect(SETTING_ENVS, e.name).toContain(e.name);
      if (e.value !== undefined) literal[e.name] = e.value;
    }
    expect(loadConfig(literal).readyDelayMs).toBe(20_000);
    // Shared by many clients: none may force faults on the others' server.
    expect(loadConfig(literal).faultHeaders).toBe(false);
  });
});
