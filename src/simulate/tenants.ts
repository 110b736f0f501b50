/**
 * The multi-tenant workload's population (`simulate --tenants`): tenants, each with its own system
 * prompt, and users per tenant; each new session is a user of a tenant, both drawn from Zipf
 * distributions, so a few tenants and, within each, a few users carry most of the traffic (one hot
 * tenant is the head of the tenants' Zipf). A session's key is its user's (`user` /
 * `prompt_cache_key` in the API), which a session-affinity router keeps on one replica.
 */
import { createRandom, hashSeed, type Random } from '../util/random.js';
import { tokens } from './workload.js';

export interface TenantOptions {
  readonly tenants: number;
  readonly usersPerTenant: number;
  /** Zipf exponent of the tenants' popularity (0 = uniform). */
  readonly tenantZipf: number;
  /** Zipf exponent of the users' popularity within a tenant (0 = uniform). */
  readonly userZipf: number;
}

/** Draws ranks 0…n−1 with P(k) ∝ 1 / (k + 1)^s, by binary search in the cumulative weights. */
export function zipfSampler(n: number, s: number, rng: Random): () => number {
  const cdf = new Float64Array(n);
  let sum = 0;
  for (let k = 0; k < n; k++) cdf[k] = sum += 1 / Math.pow(k + 1, s);
  return () => {
    const u = rng.nextFloat() * sum;
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (cdf[mid]! > u) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  };
}

/** Who a new session belongs to. */
export interface SessionOwner {
  readonly tenant: number;
  readonly user: number;
  /** The tenant's system prompt, which every first turn starts with. */
  readonly systemPrompt: readonly number[];
  readonly sessionKey: string;
}

export class TenantMix {
  private readonly prompts: (readonly number[])[];
  private readonly tenant: () => number;
  private readonly user: () => number;

  constructor(
    readonly opts: TenantOptions,
    systemPromptTokens: number,
    seed: number,
  ) {
    this.prompts = Array.from({ length: opts.tenants }, (_, t) =>
      tokens(createRandom(hashSeed(seed, 'tenant-system-prompt', t)), systemPromptTokens),
    );
    const rng = createRandom(hashSeed(seed, 'tenant-mix'));
    this.tenant = zipfSampler(opts.tenants, opts.tenantZipf, rng);
    this.user = zipfSampler(opts.usersPerTenant, opts.userZipf, rng);
  }

  next(): SessionOwner {
    const tenant = this.tenant();
    const user = this.user();
    return { tenant, user, systemPrompt: this.prompts[tenant]!, sessionKey: `tenant-${tenant}/user-${user}` };
  }
}
