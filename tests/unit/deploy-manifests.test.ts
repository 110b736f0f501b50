/**
 * Every Kubernetes manifest under deploy/ is valid against the schema of the API it names, and the
 * files agree with each other (the pool selects the pods, the scrape job reaches them, the router
 * listens where the pods publish).
 *
 * Built-in kinds are validated with the `kubernetes-models` classes (Kubernetes' own OpenAPI
 * schemas: types, required fields, formats such as quantities). Those schemas do not forbid unknown
 * fields, so a misspelt field of a built-in kind is not caught here (`kubectl apply
 * --validate=strict` would). The custom resources kubernetes-models lacks are validated against
 * small schemas derived from the upstream CRDs (each cited below), strict about unknown fields so a
 * field that does not exist in the named version fails.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Namespace } from 'kubernetes-models/v1/Namespace';
import { Secret } from 'kubernetes-models/v1/Secret';
import { Service } from 'kubernetes-models/v1/Service';
import { ServiceAccount } from 'kubernetes-models/v1/ServiceAccount';
import { DaemonSet } from 'kubernetes-models/apps/v1/DaemonSet';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { StatefulSet } from 'kubernetes-models/apps/v1/StatefulSet';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import { ClusterRole } from 'kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRole';
import { ClusterRoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRoleBinding';
import { Role } from 'kubernetes-models/rbac.authorization.k8s.io/v1/Role';
import { RoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1/RoleBinding';
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { SETTINGS } from '../../src/config/settings.js';
import { createValidator } from '../helpers/ajv.js';

/* eslint-disable @typescript-eslint/no-explicit-any -- manifests are untyped YAML */
type Doc = Record<string, any>;

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const DEPLOY = join(ROOT, 'deploy');

function yamlFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return yamlFiles(p);
    return /\.ya?ml$/.test(e.name) ? [p] : [];
  });
}

interface Manifest {
  readonly file: string;
  readonly doc: Doc;
}

function loadManifests(): Manifest[] {
  return yamlFiles(DEPLOY).flatMap((path) => {
    const file = relative(ROOT, path);
    return parseAllDocuments(readFileSync(path, 'utf8')).flatMap((d) => {
      if (d.errors.length > 0) throw new Error(`${file}: ${d.errors[0]!.message}`);
      const doc = d.toJS() as Doc | null;
      return doc === null ? [] : [{ file, doc }];
    });
  });
}

/** The built-in kinds, by apiVersion/kind, each with its kubernetes-models class. */
const BUILT_IN: Record<string, new (data: any) => { validate(): void }> = {
  'v1/ConfigMap': ConfigMap,
  'v1/Namespace': Namespace,
  'v1/Secret': Secret,
  'v1/Service': Service,
  'v1/ServiceAccount': ServiceAccount,
  'apps/v1/DaemonSet': DaemonSet,
  'apps/v1/Deployment': Deployment,
  'apps/v1/StatefulSet': StatefulSet,
  'autoscaling/v2/HorizontalPodAutoscaler': HorizontalPodAutoscaler,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
  'rbac.authorization.k8s.io/v1/ClusterRole': ClusterRole,
  'rbac.authorization.k8s.io/v1/ClusterRoleBinding': ClusterRoleBinding,
  'rbac.authorization.k8s.io/v1/Role': Role,
  'rbac.authorization.k8s.io/v1/RoleBinding': RoleBinding,
};

// ---- Schemas derived from the upstream CRDs (only what the manifests may use; strict) ----

const objectMeta = {
  type: 'object',
  required: ['name'],
  properties: {
    name: { type: 'string', pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$', maxLength: 253 },
    namespace: { type: 'string' },
    labels: { type: 'object', additionalProperties: { type: 'string' } },
    annotations: { type: 'object', additionalProperties: { type: 'string' } },
  },
};
const portNumber = { type: 'integer', minimum: 1, maximum: 65535 };
const dnsGroup = {
  type: 'string',
  maxLength: 253,
  pattern: '^$|^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$',
};
const kindName = {
  type: 'string',
  minLength: 1,
  maxLength: 63,
  pattern: '^[a-zA-Z]([-a-zA-Z0-9]*[a-zA-Z0-9])?$',
};
const refName = { type: 'string', minLength: 1, maxLength: 253 };
const resource = (apiVersion: string, kind: string, spec: object) => ({
  type: 'object',
  additionalProperties: false,
  required: ['apiVersion', 'kind', 'metadata', 'spec'],
  properties: { apiVersion: { const: apiVersion }, kind: { const: kind }, metadata: objectMeta, spec },
});

/**
 * InferencePool inference.networking.k8s.io/v1, from gateway-api-inference-extension v1.5.0
 * config/crd/bases/inference.networking.k8s.io_inferencepools.yaml (v1.6.0 differs only in making
 * endpointPickerRef optional). The CRD's CEL rules (port required for a Service reference, unique
 * target ports) are checked in the test below.
 */
const INFERENCE_POOL = resource('inference.networking.k8s.io/v1', 'InferencePool', {
  type: 'object',
  additionalProperties: false,
  required: ['endpointPickerRef', 'selector', 'targetPorts'],
  properties: {
    appProtocol: { enum: ['http', 'kubernetes.io/h2c'] },
    endpointPickerRef: {
      type: 'object',
      additionalProperties: false,
      required: ['name'],
      properties: {
        failureMode: { enum: ['FailOpen', 'FailClose'] },
        group: dnsGroup,
        kind: kindName,
        name: refName,
        port: {
          type: 'object',
          additionalProperties: false,
          required: ['number'],
          properties: { number: portNumber },
        },
      },
    },
    selector: {
      type: 'object',
      additionalProperties: false,
      required: ['matchLabels'],
      properties: {
        matchLabels: {
          type: 'object',
          minProperties: 1,
          maxProperties: 64,
          additionalProperties: {
            type: 'string',
            maxLength: 63,
            pattern: '^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$',
          },
        },
      },
    },
    targetPorts: {
      type: 'array',
      minItems: 1,
      maxItems: 8,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['number'],
        properties: { number: portNumber },
      },
    },
  },
});

/**
 * HTTPRoute gateway.networking.k8s.io/v1, Gateway API v1.5.1 standard channel
 * (config/crd/standard/gateway.networking.k8s.io_httproutes.yaml): the fields llm-d's example
 * route uses (llm-d-inference-scheduler v0.8.0 deploy/components/inference-gateway/httproutes.yaml);
 * durations follow GEP-2257.
 */
const HTTP_ROUTE = resource('gateway.networking.k8s.io/v1', 'HTTPRoute', {
  type: 'object',
  additionalProperties: false,
  properties: {
    parentRefs: {
      type: 'array',
      maxItems: 32,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['name'],
        properties: {
          group: dnsGroup,
          kind: kindName,
          namespace: { type: 'string' },
          name: refName,
          sectionName: { type: 'string' },
          port: portNumber,
        },
      },
    },
    hostnames: { type: 'array', items: { type: 'string' } },
    rules: {
      type: 'array',
      maxItems: 16,
      items: {
        type: 'object',
        additionalProperties: false,
        properties: {
          matches: {
            type: 'array',
            maxItems: 64,
            items: {
              type: 'object',
              additionalProperties: false,
              properties: {
                path: {
                  type: 'object',
                  additionalProperties: false,
                  properties: {
                    type: { enum: ['Exact', 'PathPrefix', 'RegularExpression'] },
                    value: { type: 'string', maxLength: 1024 },
                  },
                },
              },
            },
          },
          backendRefs: {
            type: 'array',
            maxItems: 16,
            items: {
              type: 'object',
              additionalProperties: false,
              required: ['name'],
              properties: {
                group: dnsGroup,
                kind: kindName,
                name: refName,
                namespace: { type: 'string' },
                port: portNumber,
                weight: { type: 'integer', minimum: 0, maximum: 1000000 },
              },
            },
          },
          timeouts: {
            type: 'object',
            additionalProperties: false,
            properties: {
              request: { type: 'string', pattern: '^([0-9]{1,5}(h|m|s|ms)){1,4}$' },
              backendRequest: { type: 'string', pattern: '^([0-9]{1,5}(h|m|s|ms)){1,4}$' },
            },
          },
        },
      },
    },
  },
});

/**
 * ServiceMonitor monitoring.coreos.com/v1, prometheus-operator v0.84.1
 * (example/prometheus-operator-crd/monitoring.coreos.com_servicemonitors.yaml): spec.selector and
 * spec.endpoints are required; the endpoint fields kept here are the scrape basics.
 */
const SERVICE_MONITOR = resource('monitoring.coreos.com/v1', 'ServiceMonitor', {
  type: 'object',
  additionalProperties: false,
  required: ['endpoints', 'selector'],
  properties: {
    jobLabel: { type: 'string' },
    targetLabels: { type: 'array', items: { type: 'string' } },
    podTargetLabels: { type: 'array', items: { type: 'string' } },
    namespaceSelector: {
      type: 'object',
      additionalProperties: false,
      properties: { any: { type: 'boolean' }, matchNames: { type: 'array', items: { type: 'string' } } },
    },
    selector: {
      type: 'object',
      additionalProperties: false,
      properties: {
        matchLabels: { type: 'object', additionalProperties: { type: 'string' } },
        matchExpressions: { type: 'array' },
      },
    },
    endpoints: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        properties: {
          port: { type: 'string' },
          path: { type: 'string' },
          scheme: { type: 'string' },
          interval: {
            type: 'string',
            pattern:
              '^(0|(([0-9]+)y)?(([0-9]+)w)?(([0-9]+)d)?(([0-9]+)h)?(([0-9]+)m)?(([0-9]+)s)?(([0-9]+)ms)?)$',
          },
          scrapeTimeout: { type: 'string' },
          honorLabels: { type: 'boolean' },
        },
      },
    },
  },
});

const CUSTOM: Record<string, object> = {
  'inference.networking.k8s.io/v1/InferencePool': INFERENCE_POOL,
  'gateway.networking.k8s.io/v1/HTTPRoute': HTTP_ROUTE,
  'monitoring.coreos.com/v1/ServiceMonitor': SERVICE_MONITOR,
};

/**
 * llm-d's EndpointPickerConfig inference.networking.x-k8s.io/v1alpha1 (a config file the EPP reads,
 * not a CRD): gateway-api-inference-extension v1.5.0 apix/config/v1alpha1/endpointpickerconfig_types.go.
 */
const EPP_CONFIG = {
  type: 'object',
  additionalProperties: false,
  required: ['apiVersion', 'kind', 'plugins', 'schedulingProfiles'],
  properties: {
    apiVersion: { const: 'inference.networking.x-k8s.io/v1alpha1' },
    kind: { const: 'EndpointPickerConfig' },
    featureGates: { type: 'array', items: { type: 'string' } },
    plugins: {
      type: 'array',
      minItems: 1,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['type'],
        properties: { name: { type: 'string' }, type: { type: 'string' }, parameters: { type: 'object' } },
      },
    },
    schedulingProfiles: {
      type: 'array',
      minItems: 1,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['name', 'plugins'],
        properties: {
          name: { type: 'string' },
          plugins: {
            type: 'array',
            items: {
              type: 'object',
              additionalProperties: false,
              required: ['pluginRef'],
              properties: { pluginRef: { type: 'string' }, weight: { type: 'number' } },
            },
          },
        },
      },
    },
    dataLayer: {
      type: 'object',
      additionalProperties: false,
      properties: {
        sources: {
          type: 'array',
          items: {
            type: 'object',
            additionalProperties: false,
            required: ['pluginRef'],
            properties: {
              pluginRef: { type: 'string' },
              extractors: {
                type: 'array',
                items: {
                  type: 'object',
                  additionalProperties: false,
                  required: ['pluginRef'],
                  properties: { pluginRef: { type: 'string' } },
                },
              },
            },
          },
        },
      },
    },
    saturationDetector: { type: 'object' },
    flowControl: { type: 'object' },
    parser: { type: 'object' },
  },
};

/**
 * Plugin types the EPP image registers: the scheduling and data-layer plugins of
 * gateway-api-inference-extension v1.5.0 and llm-d-inference-scheduler v0.8.0's own
 * (pkg/epp/framework/plugins/register.go).
 */
const EPP_PLUGIN_TYPES = new Set([
  'queue-scorer',
  'kv-cache-utilization-scorer',
  'prefix-cache-scorer',
  'lora-affinity-scorer',
  'max-score-picker',
  'single-profile-handler',
  'metrics-data-source',
  'core-metrics-extractor',
  'endpoint-notification-source',
  'precise-prefix-cache-scorer',
  'decode-filter',
  'tokenizer',
]);

const validator = createValidator();
const validateCustom = Object.fromEntries(
  Object.entries(CUSTOM).map(([key, schema]) => [key, validator.compile(schema)]),
);
const validateEppConfig = validator.compile(EPP_CONFIG);

const kindKey = (doc: Doc) => `${doc['apiVersion']}/${doc['kind']}`;

/** Validates one manifest; returns the problem, or null when it is valid. */
function problemOf(doc: Doc): string | null {
  const key = kindKey(doc);
  const Model = BUILT_IN[key];
  if (Model !== undefined) {
    try {
      new Model(doc).validate();
      return null;
    } catch (e) {
      return (e as Error).message;
    }
  }
  const check = validateCustom[key];
  if (check === undefined) return `unknown kind ${key}: add its schema to this test`;
  if (check(doc)) return null;
  return validator.errorsText(check.errors);
}

const manifests = loadManifests();
const ofKind = (kind: string) => manifests.filter((m) => m.doc['kind'] === kind).map((m) => m.doc);
const named = (kind: string, name: string) => {
  const found = ofKind(kind).find((d) => d['metadata']['name'] === name);
  if (found === undefined) throw new Error(`no ${kind} named ${name}`);
  return found;
};
const matches = (selector: Record<string, string>, labels: Record<string, string> | undefined) =>
  Object.entries(selector).every(([k, v]) => labels?.[k] === v);

describe('deploy/ manifests against their schemas', () => {
  it('finds the manifests, each a YAML document with apiVersion, kind and a name', () => {
    expect(manifests.length).toBeGreaterThan(10);
    for (const { file, doc } of manifests) {
      expect(typeof doc['apiVersion'], file).toBe('string');
      expect(typeof doc['kind'], file).toBe('string');
      expect(typeof doc['metadata']?.['name'], file).toBe('string');
    }
  });

  it('validates every document against the schema of its apiVersion and kind', () => {
    const problems = manifests.flatMap(({ file, doc }) => {
      const p = problemOf(doc);
      return p === null ? [] : [`${file} ${kindKey(doc)} ${doc['metadata']?.['name']}: ${p}`];
    });
    expect(problems).toEqual([]);
  });

  it('covers every kind the manifests use, built in or custom', () => {
    const keys = new Set(manifests.map((m) => kindKey(m.doc)));
    for (const key of [
      'apps/v1/Deployment',
      'v1/Service',
      'inference.networking.k8s.io/v1/InferencePool',
      'monitoring.coreos.com/v1/ServiceMonitor',
    ])
      expect(keys).toContain(key);
  });

  // The validators must reject what the API server would, or passing proves nothing.
  it('rejects an unknown kind, a bad built-in field, and CRD fields the named version lacks', () => {
    expect(problemOf({ apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w' } })).toMatch(
      /unknown kind/,
    );
    const deployment = structuredClone(named('Deployment', 'nimsim'));
    deployment['spec']['template']['spec']['containers'][0]['resources']['limits']['memory'] = 'lots';
    expect(problemOf(deployment)).toMatch(/quantity/);
    delete deployment['spec']['selector'];
    expect(problemOf(deployment)).toMatch(/selector/);

    const pool = structuredClone(named('InferencePool', 'nimsim'));
    pool['spec']['extensionRef'] = { name: 'nimsim-epp' }; // the pre-v1 (v1alpha2) field name
    expect(problemOf(pool)).toMatch(/additional/);
    const noPorts = structuredClone(named('InferencePool', 'nimsim'));
    noPorts['spec']['targetPorts'] = [];
    expect(problemOf(noPorts)).toMatch(/fewer than 1/);

    const monitor = structuredClone(named('ServiceMonitor', 'nimsim'));
    delete monitor['spec']['endpoints'];
    expect(problemOf(monitor)).toMatch(/endpoints/);
    const route = structuredClone(named('HTTPRoute', 'nimsim'));
    route['spec']['rules'][0]['timeouts']['request'] = '5 minutes';
    expect(problemOf(route)).toMatch(/pattern/);
  });
});

describe('deploy/ manifests agree with each other', () => {
  const nimsim = named('Deployment', 'nimsim');
  const podLabels = nimsim['spec']['template']['metadata']['labels'] as Record<string, string>;
  const container = nimsim['spec']['template']['spec']['containers'][0];
  const portNamed = (name: string) =>
    (container.ports as { name: string; containerPort: number }[]).find((p) => p.name === name)!
      .containerPort;
  const envValue = (name: string) =>
    (container.env as { name: string; value?: string }[]).find((e) => e.name === name)?.value;

  it('sizes nimsim pods with requests no larger than limits', () => {
    const { requests, limits } = container.resources;
    const mi = (q: string) => Number(q.replace(/Mi$/, ''));
    const cores = (q: string) => (q.endsWith('m') ? Number(q.slice(0, -1)) / 1000 : Number(q));
    expect(mi(requests.memory)).toBeLessThanOrEqual(mi(limits.memory));
    expect(cores(requests.cpu)).toBeLessThanOrEqual(cores(limits.cpu));
  });

  it('the InferencePool selects the nimsim pods on their HTTP port and names a real EPP Service port', () => {
    const poolDoc = named('InferencePool', 'nimsim');
    const pool = poolDoc['spec'];
    expect(matches(pool.selector.matchLabels, podLabels)).toBe(true);
    expect(pool.targetPorts.map((p: { number: number }) => p.number)).toEqual([portNamed('http')]);
    // The CRD's CEL rules: a Service reference needs a port; target ports are unique.
    expect(pool.endpointPickerRef.kind ?? 'Service').toBe('Service');
    const epp = named('Service', pool.endpointPickerRef.name);
    expect(epp['spec']['ports'].map((p: { port: number }) => p.port)).toContain(
      pool.endpointPickerRef.port.number,
    );
    const eppPods = named('Deployment', pool.endpointPickerRef.name)['spec']['template'];
    expect(matches(epp['spec']['selector'], eppPods['metadata']['labels'])).toBe(true);
    // --pool-name is how the EPP finds this pool.
    expect(eppPods['spec']['containers'][0]['args']).toContain(`--pool-name=${poolDoc['metadata']['name']}`);
  });

  it('the HTTPRoute sends traffic to the InferencePool on its target port', () => {
    const backend = named('HTTPRoute', 'nimsim')['spec']['rules'][0]['backendRefs'][0];
    expect(backend).toMatchObject({
      group: 'inference.networking.k8s.io',
      kind: 'InferencePool',
      name: 'nimsim',
    });
    expect(backend.port).toBe(portNamed('http'));
  });

  describe('the EPP configurations', () => {
    const configMap = named('ConfigMap', 'nimsim-epp');
    const configs = Object.entries(configMap['data'] as Record<string, string>).map(
      ([key, text]) => [key, parse(text) as Doc] as const,
    );
    const eppArgs: string[] = named('Deployment', 'nimsim-epp')['spec']['template']['spec']['containers'][0][
      'args'
    ];

    it('are valid EndpointPickerConfigs whose every reference names a declared plugin', () => {
      expect(configs.length).toBe(2);
      for (const [key, config] of configs) {
        expect(validateEppConfig(config), `${key}: ${validator.errorsText(validateEppConfig.errors)}`).toBe(
          true,
        );
        const declared = new Set(config['plugins'].map((p: Doc) => p['name'] ?? p['type']));
        for (const p of config['plugins']) expect(EPP_PLUGIN_TYPES, `${key}: ${p.type}`).toContain(p.type);
        const refs = [
          ...config['schedulingProfiles'].flatMap((s: Doc) => s['plugins'].map((p: Doc) => p['pluginRef'])),
          ...(config['dataLayer']?.['sources'] ?? []).flatMap((s: Doc) => [
            s['pluginRef'],
            ...(s['extractors'] ?? []).map((e: Doc) => e['pluginRef']),
          ]),
        ];
        for (const ref of refs) expect(declared, `${key}: ${ref}`).toContain(ref);
      }
    });

    it('the EPP loads one of them, and scrapes the route nimsim serves vLLM metrics on', () => {
      const file = eppArgs
        .find((a) => a.startsWith('--config-file='))!
        .split('/')
        .pop()!;
      expect(configs.map(([key]) => key)).toContain(file);
      for (const [, config] of configs) {
        const source = config['plugins'].find((p: Doc) => p['type'] === 'metrics-data-source');
        expect(source.parameters.path).toBe('/metrics');
      }
    });

    it('the precise prefix scorer listens where nimsim publishes, with its block size and topic', () => {
      const [, config] = configs.find(([key]) => key === 'precise-prefix-cache.yaml')!;
      const scorer = config['plugins'].find((p: Doc) => p['type'] === 'precise-prefix-cache-scorer');
      const { kvEventsConfig, tokenProcessorConfig } = scorer.parameters;
      expect(kvEventsConfig.podDiscoveryConfig.socketPort).toBe(portNamed('kv-events'));
      expect(envValue('NIMSIM_KV_EVENTS_ENDPOINT')).toBe(`tcp://*:${portNamed('kv-events')}`);
      // llm-d-kv-cache parses kv@<pod-id>@<model>; the model must be the one requests name.
      const topic = envValue('NIMSIM_KV_EVENTS_TOPIC')!;
      expect(topic.startsWith(kvEventsConfig.topicFilter)).toBe(true);
      expect(topic).toBe(`kv@$(POD_IP)@${envValue('NIM_MODEL_NAME')}`);
      const blockSize = Number(envValue('NIMSIM_KV_BLOCK_SIZE') ?? SETTINGS.kvBlockSize.default);
      expect(tokenProcessorConfig.blockSize).toBe(blockSize);
    });
  });

  describe('Prometheus', () => {
    const config = parse(named('ConfigMap', 'prometheus')['data']['prometheus.yml']) as Doc;
    const job = config['scrape_configs'].find((j: Doc) => j['job_name'] === 'nimsim');
    const annotations = nimsim['spec']['template']['metadata']['annotations'] as Record<string, string>;

    it('discovers pods and keeps the annotated nimsim pods on the annotated port and path', () => {
      expect(job.kubernetes_sd_configs).toEqual([{ role: 'pod', namespaces: { own_namespace: true } }]);
      const keepApp = job.relabel_configs.find(
        (r: Doc) => r['action'] === 'keep' && r['source_labels'][0] === '__meta_kubernetes_pod_label_app',
      );
      expect(matches({ app: keepApp.regex }, podLabels)).toBe(true);
      const keepScrape = job.relabel_configs.find(
        (r: Doc) => r['source_labels'][0] === '__meta_kubernetes_pod_annotation_prometheus_io_scrape',
      );
      expect([keepScrape.action, keepScrape.regex]).toEqual(['keep', annotations['prometheus.io/scrape']]);
      expect(Number(annotations['prometheus.io/port'])).toBe(portNamed('http'));
      expect(annotations['prometheus.io/path']).toBe('/v1/metrics');
      // Relabel actions Prometheus knows (keepequal since 2.41); a typo would fail config load.
      const actions = new Set([
        'replace',
        'keep',
        'drop',
        'keepequal',
        'dropequal',
        'hashmod',
        'labelmap',
        'labeldrop',
        'labelkeep',
        'lowercase',
        'uppercase',
      ]);
      for (const r of job.relabel_configs) expect(actions).toContain(r.action ?? 'replace');
    });

    it('the Prometheus pod may list pods and mounts the config it is given', () => {
      const role = named('Role', 'prometheus');
      expect(role['rules']).toContainEqual({
        apiGroups: [''],
        resources: ['pods'],
        verbs: ['get', 'list', 'watch'],
      });
      const pod = named('Deployment', 'prometheus')['spec']['template']['spec'];
      expect(pod.serviceAccountName).toBe('prometheus');
      expect(pod.containers[0].args).toContain('--config.file=/etc/prometheus/prometheus.yml');
    });

    it('the ServiceMonitor scrapes the nimsim Service by port name, on the NIM metrics route', () => {
      const monitor = named('ServiceMonitor', 'nimsim')['spec'];
      const service = named('Service', 'nimsim');
      expect(matches(monitor.selector.matchLabels, service['metadata']['labels'])).toBe(true);
      expect(service['spec']['ports'].map((p: { name: string }) => p.name)).toContain(
        monitor.endpoints[0].port,
      );
      expect(monitor.endpoints[0].path).toBe('/v1/metrics');
    });
  });
});
