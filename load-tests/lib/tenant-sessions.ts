/**
 * Multi-tenant chat traffic, the client-side twin of `nimsim simulate --tenants`
 * (src/simulate/tenants.ts): T tenants, each with its own system prompt, and U users per tenant;
 * each new session is a user of a tenant, both drawn from Zipf distributions (a few tenants and,
 * within each, a few users carry most of the traffic), and carries its user's key as `user` and
 * `prompt_cache_key`. A closed loop keeps `concurrency` sessions in flight: each sends `turns` turns
 * that resend the whole conversation, with an exponential think time between them, and a finished
 * session makes room for the next, until `requests` turns were sent in all — as `simulate` does.
 */
import { performance } from 'node:perf_hooks';
import { createRandom, hashSeed } from '../../src/util/random.js';
import { zipfSampler } from '../../src/simulate/tenants.js';
import { exponential } from './arrivals.js';
import type { ChatClient, ChatMessage } from './chat-client.js';
import type { RequestRecord } from './metrics.js';
import type { Progress } from './progress.js';
import { promptText } from './prompts.js';
import { sleep } from './runner.js';

export interface TenantWorkload {
  readonly tenants: number;
  readonly usersPerTenant: number;
  /** Zipf exponents of the tenants' and of the users' popularity (0 = uniform). */
  readonly tenantZipf: number;
  readonly userZipf: number;
  /** Sessions in flight at once (closed loop). */
  readonly concurrency: number;
  /** Turns sent in all (the run's bound). */
  readonly requests: number;
  readonly turns: number;
  /** Tokens of each tenant's system prompt. */
  readonly systemTokens: number;
  /** New user tokens per turn. */
  readonly inputTokens: number;
  readonly outputTokens: number;
  /** Mean think time between a reply and the session's next turn, simulated ms (exponential). */
  readonly thinkTimeMs: number;
  readonly seed: number;
}

/** Who session `index` belongs to. */
export interface TenantOwner {
  readonly tenant: number;
  readonly user: number;
  /** Its routing identity: `tenant-<t>/user-<u>`, the form `simulate` uses. */
  readonly sessionKey: string;
}

/** One request as the load generator saw it, with the tenant and user of its session. */
export interface TenantRecord extends RequestRecord {
  readonly tenant: number;
  readonly user: number;
}

/**
 * The owners of sessions 0, 1, 2, … in order: a pure function of the workload (its seed and Zipf
 * exponents), so that which session belongs to whom does not depend on which session started first.
 */
export function tenantOwners(w: TenantWorkload): (index: number) => TenantOwner {
  const rng = createRandom(hashSeed(w.seed, 'tenant-mix'));
  const tenant = zipfSampler(w.tenants, w.tenantZipf, rng);
  const user = zipfSampler(w.usersPerTenant, w.userZipf, rng);
  const drawn: TenantOwner[] = [];
  return (index) => {
    while (drawn.length <= index) {
      const t = tenant();
      const u = user();
      drawn.push({ tenant: t, user: u, sessionKey: `tenant-${t}/user-${u}` });
    }
    return drawn[index]!;
  };
}

/** Tenant `t`'s system prompt: the same text for every session of that tenant. */
export function tenantSystemPrompt(w: TenantWorkload, t: number): ChatMessage {
  return {
    role: 'system',
    content: `You are the assistant of tenant ${t}.${promptText(w.systemTokens, w.seed, 'tenant-system', t)}`,
  };
}

/**
 * Runs the workload until `requests` turns were sent or `deadlineMs` (performance.now()) passed.
 * `thinkTimeMs` here is in wall ms (the caller divides by the target's time scale). A failed turn
 * ends its session; the next session takes its place.
 */
export async function runTenantSessions(opts: {
  client: ChatClient;
  workload: TenantWorkload;
  /** Mean think time in wall ms. */
  thinkTimeMs: number;
  deadlineMs: number;
  progress?: Progress;
}): Promise<TenantRecord[]> {
  const w = opts.workload;
  const ownerOf = tenantOwners(w);
  const records: TenantRecord[] = [];
  let sent = 0;
  let sessions = 0;
  const more = () => sent < w.requests && performance.now() < opts.deadlineMs;

  const session = async (index: number, rng: ReturnType<typeof createRandom>) => {
    const owner = ownerOf(index);
    const messages: ChatMessage[] = [tenantSystemPrompt(w, owner.tenant)];
    for (let turn = 0; turn < w.turns && more(); turn++) {
      sent++;
      messages.push({ role: 'user', content: promptText(w.inputTokens, w.seed, 'tenant-turn', index, turn) });
      const r = await opts.client.send({
        messages,
        maxTokens: w.outputTokens,
        session: index,
        turn,
        collectText: true,
        sessionKey: owner.sessionKey,
      });
      records.push({ ...r, tenant: owner.tenant, user: owner.user });
      opts.progress?.update(records.length);
      if (r.error !== undefined || !r.done) return;
      messages.push({ role: 'assistant', content: r.text });
      if (turn + 1 < w.turns) await sleep(exponential(rng, opts.thinkTimeMs));
    }
  };

  const slot = async (s: number) => {
    const rng = createRandom(hashSeed(w.seed, 'tenant-slot', s));
    // Slots start spread over one mean think time, as users do. (`simulate`'s closed loop starts
    // every session at once: a burst of cold first turns that a live server would also have to
    // tokenize at once, with its CPU time multiplied by the time scale.)
    await sleep(rng.nextFloat() * opts.thinkTimeMs);
    while (more()) await session(sessions++, rng);
  };
  await Promise.all(Array.from({ length: w.concurrency }, (_, s) => slot(s)));
  return records;
}
