/** Each tenant's figures in a multi-tenant `simulate` report: how a hot tenant fares beside the rest. */
import type { Outcomes } from './outcomes.js';
import { distribution, type TenantReport } from './report.js';

export function tenantReport(o: Outcomes, tenants: number): TenantReport[] {
  const ttfts: number[][] = Array.from({ length: tenants }, () => []);
  const cached = new Float64Array(tenants);
  for (let i = 0; i < o.length; i++) {
    const t = o.tenant[i]!;
    ttfts[t]!.push(o.firstTokenMs[i]! - o.arrivalMs[i]!);
    cached[t]! += o.cachedTokens[i]!;
  }
  return ttfts.map((ttft, t) => ({
    tenant: t,
    requests: ttft.length,
    cached_tokens_mean: ttft.length > 0 ? Math.round((cached[t]! / ttft.length) * 10) / 10 : 0,
    ttft_ms: distribution(ttft),
  }));
}
