/**
 * Settings of a fleet: engine replicas behind one router and how it picks, or disaggregated
 * prefill and decode pools and the link between them.
 */
import { KV_LINK_KEYS } from '../../catalog/links.js';
import { int, num, oneOf } from './value-schemas.js';
import { settingGroup } from './define.js';

/** Most engine replicas one process simulates (NIMSIM_REPLICAS). */
export const MAX_REPLICAS = 256;

/** Routing policies of a fleet (src/fleet/router.ts re-exports it). */
export const ROUTER_NAMES = ['round-robin', 'random', 'least-loaded', 'kv-aware', 'session'] as const;

export const FLEET_SETTINGS = settingGroup('fleet', {
  replicas: {
    env: 'NIMSIM_REPLICAS',
    schema: int(1, MAX_REPLICAS),
    default: '1',
    help: `engine replicas behind one router, each a whole engine (at most ${MAX_REPLICAS})`,
    arg: '<n>',
  },
  router: {
    env: 'NIMSIM_ROUTER',
    schema: oneOf(ROUTER_NAMES),
    unsetMeans: 'kv-aware',
    help: 'replica choice: round-robin, random, least-loaded, kv-aware, session',
    arg: '<name>',
  },
  kvOverlapScoreWeight: {
    env: 'NIMSIM_KV_OVERLAP_SCORE_WEIGHT',
    schema: num(0, 1e6),
    default: '1',
    help: 'kv-aware router: weight of prefill cost vs decode cost (as in Dynamo)',
    arg: '<w>',
  },
  routerTemperature: {
    env: 'NIMSIM_ROUTER_TEMPERATURE',
    schema: num(0, 100),
    default: '0',
    help: 'kv-aware router: softmax temperature (as in Dynamo; 0 = the cheapest)',
    arg: '<t>',
  },
  prefillReplicas: {
    env: 'NIMSIM_PREFILL_REPLICAS',
    schema: int(0, MAX_REPLICAS),
    default: '0',
    help: 'prefill replicas of disaggregated serving (with --decode-replicas; not with --replicas)',
    arg: '<n>',
  },
  decodeReplicas: {
    env: 'NIMSIM_DECODE_REPLICAS',
    schema: int(0, MAX_REPLICAS),
    default: '0',
    help: 'decode replicas of disaggregated serving (with --prefill-replicas)',
    arg: '<n>',
  },
  kvTransferLink: {
    env: 'NIMSIM_KV_TRANSFER_LINK',
    schema: oneOf(KV_LINK_KEYS),
    unsetMeans: "the GPU's NVLink",
    help: `link from prefill to decode replicas: ${KV_LINK_KEYS.join(', ')}`,
    arg: '<link>',
  },
  prefillTp: {
    env: 'NIMSIM_PREFILL_TP',
    schema: int(1, 64),
    unsetMeans: "the profile's",
    help: 'tensor-parallel size (and GPUs) of each prefill replica',
    arg: '<n>',
  },
  decodeTp: {
    env: 'NIMSIM_DECODE_TP',
    schema: int(1, 64),
    unsetMeans: "the profile's",
    help: 'tensor-parallel size (and GPUs) of each decode replica',
    arg: '<n>',
  },
  maxLocalPrefillLength: {
    env: 'NIMSIM_MAX_LOCAL_PREFILL_LENGTH',
    schema: int(0),
    default: '1000',
    help: "prompts with at most this many uncached tokens are prefilled on their decode replica (Dynamo's max_local_prefill_length)",
    arg: '<n>',
  },
  prefillMaxWaiting: {
    env: 'NIMSIM_PREFILL_MAX_WAITING',
    schema: int(0),
    unsetMeans: '--max-waiting',
    help: "bound of each prefill replica's waiting queue; beyond: 429",
    arg: '<n>',
  },
  decodeMaxWaiting: {
    env: 'NIMSIM_DECODE_MAX_WAITING',
    schema: int(0),
    unsetMeans: '--max-waiting',
    help: "bound of each decode replica's waiting queue; beyond: 429",
    arg: '<n>',
  },
});
