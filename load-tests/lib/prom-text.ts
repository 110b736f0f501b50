/**
 * Reading counters out of Prometheus text exposition defensively, for servers whose labels vary:
 * one nimsim replica exposes `vllm:prefix_cache_hits_total{model_name="…"}`, a fleet may expose one
 * sample per engine (`engine="0"`, `engine="1"`, … as vLLM labels its data-parallel engines) and
 * perhaps an aggregate beside them. Counters here are summed so that neither shape is miscounted.
 */

interface Sample {
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

/** Every sample of metric `name` (exactly that name, any labels). */
export function promSamples(text: string | undefined, name: string): Sample[] {
  if (text === undefined) return [];
  const out: Sample[] = [];
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const rest = line.slice(name.length);
    let labelText = '';
    let valueText: string;
    if (rest.startsWith('{')) {
      const end = rest.lastIndexOf('}');
      if (end < 0) continue;
      labelText = rest.slice(1, end);
      valueText = rest.slice(end + 1);
    } else if (rest.startsWith(' ')) {
      valueText = rest;
    } else {
      continue; // another metric whose name starts with this one (e.g. `_created`)
    }
    const value = Number(valueText.trim().split(/\s+/)[0]);
    if (!Number.isFinite(value)) continue;
    const labels: Record<string, string> = {};
    for (const m of labelText.matchAll(/([A-Za-z_][A-Za-z0-9_]*)="((?:[^"\\]|\\.)*)"/g))
      labels[m[1]!] = m[2]!;
    out.push({ labels, value });
  }
  return out;
}

/**
 * The total of counter `name`: the sum of its per-engine samples (`engine` label) when there are
 * any — an unlabelled aggregate beside them would count everything twice — otherwise the sum of all
 * its samples; undefined when the metric is absent.
 */
export function promTotal(text: string | undefined, name: string): number | undefined {
  const samples = promSamples(text, name);
  if (samples.length === 0) return undefined;
  const perEngine = samples.filter((s) => s.labels.engine !== undefined);
  return (perEngine.length > 0 ? perEngine : samples).reduce((a, s) => a + s.value, 0);
}

/**
 * Counter `name` per value of `label` (other labels summed), e.g. requests per `replica`; undefined
 * when no sample carries that label.
 */
export function promByLabel(
  text: string | undefined,
  name: string,
  label: string,
): Map<string, number> | undefined {
  const byValue = new Map<string, number>();
  for (const s of promSamples(text, name)) {
    const v = s.labels[label];
    if (v !== undefined) byValue.set(v, (byValue.get(v) ?? 0) + s.value);
  }
  return byValue.size === 0 ? undefined : byValue;
}
