/**
 * Counters and histograms for the per-token hot path. prom-client hashes and validates the label
 * object on every `inc`/`observe` (several hundred ns each); at thousands of streamed tokens per
 * second that was a visible share of the server's CPU. These keep one plain child per label set,
 * so an observation is a bucket search and three additions, and export themselves in exactly the
 * shape prom-client's own metrics do (`getForPromString`), so both `registry.metrics()` and our
 * exposition renderer print them byte for byte as a prom-client metric would.
 */
import type { Registry } from 'prom-client';

type LabelValues = Readonly<Record<string, string>>;

interface ExportValue {
  labels: Record<string, string | number>;
  sharedLabels: LabelValues;
  value: number;
  metricName: string;
  exemplar?: undefined;
}

interface MetricExport {
  name: string;
  help: string;
  type: 'counter' | 'histogram';
  values: ExportValue[];
  aggregator: 'sum';
}

abstract class FastMetric<Child> {
  protected readonly children = new Map<string, { labels: LabelValues; child: Child }>();
  constructor(
    readonly name: string,
    readonly help: string,
    private readonly labelNames: readonly string[],
    registers: readonly Registry[],
  ) {
    for (const r of registers) r.registerMetric(this as never);
  }

  /** Callers that reuse one label object per series hit this before any key is built. */
  private readonly byObject = new WeakMap<LabelValues, Child>();

  /** The child of one label set; keep it and call it directly on hot paths. */
  labels(values: LabelValues): Child {
    const known = this.byObject.get(values);
    if (known) return known;
    const child = this.childFor(values);
    this.byObject.set(values, child);
    return child;
  }

  private childFor(values: LabelValues): Child {
    let key = '';
    for (const n of this.labelNames) key += `${values[n] ?? ''}\u0000`;
    let entry = this.children.get(key);
    if (!entry) {
      const labels: Record<string, string> = {};
      for (const n of this.labelNames) {
        const v = values[n];
        if (v === undefined) throw new Error(`${this.name}: missing label ${n}`);
        labels[n] = v;
      }
      entry = { labels, child: this.newChild() };
      this.children.set(key, entry);
    }
    return entry.child;
  }

  protected abstract newChild(): Child;
  abstract getForPromString(): MetricExport;
  get(): MetricExport {
    return this.getForPromString();
  }
  reset(): void {
    this.children.clear();
  }
}

export interface CounterChild {
  value: number;
  inc(by?: number): void;
}

export class FastCounter extends FastMetric<CounterChild> {
  readonly type = 'counter';
  /** prom-client's call shape; hot paths should keep `labels(...)`'s child instead. */
  inc(labels: LabelValues, by = 1): void {
    this.labels(labels).inc(by);
  }
  protected newChild(): CounterChild {
    return {
      value: 0,
      inc(by = 1) {
        this.value += by;
      },
    };
  }
  getForPromString(): MetricExport {
    const values: ExportValue[] = [];
    for (const { labels, child } of this.children.values()) {
      values.push({ labels: { ...labels }, sharedLabels: {}, value: child.value, metricName: this.name });
    }
    return { name: this.name, help: this.help, type: 'counter', values, aggregator: 'sum' };
  }
}

export interface HistogramChild {
  observe(value: number): void;
  /** `count` observations of the same `value`: the very state `count` calls of observe() leave. */
  observeMany(value: number, count: number): void;
}

class HistogramData implements HistogramChild {
  readonly counts: Float64Array;
  sum = 0;
  count = 0;
  constructor(private readonly bounds: readonly number[]) {
    this.counts = new Float64Array(bounds.length);
  }
  observe(value: number): void {
    const b = this.bounds;
    let i = 0;
    while (i < b.length && value > b[i]!) i++;
    if (i < b.length) this.counts[i]!++;
    this.sum += value;
    this.count++;
  }
  observeMany(value: number, count: number): void {
    const b = this.bounds;
    let i = 0;
    while (i < b.length && value > b[i]!) i++;
    if (i < b.length) this.counts[i]! += count;
    // Added one by one: a product would round otherwise than the additions observe() makes.
    for (let k = 0; k < count; k++) this.sum += value;
    this.count += count;
  }
}

export class FastHistogram extends FastMetric<HistogramData> {
  readonly type = 'histogram';
  private readonly bounds: readonly number[];
  /** Each bound's `le` text, as vLLM's Python client writes it. */
  private readonly leText: readonly string[];
  constructor(
    name: string,
    help: string,
    buckets: readonly number[],
    labelNames: readonly string[],
    registers: readonly Registry[],
  ) {
    super(name, help, labelNames, registers);
    this.bounds = [...buckets].sort((a, b) => a - b);
    this.leText = this.bounds.map(goFloat);
  }
  /** prom-client's call shape; hot paths should keep `labels(...)`'s child instead. */
  observe(labels: LabelValues, value: number): void {
    this.labels(labels).observe(value);
  }
  /** Creates the label set's series at zero (so panels have data before traffic). */
  zero(labels: LabelValues): void {
    this.labels(labels);
  }
  protected newChild(): HistogramData {
    return new HistogramData(this.bounds);
  }
  getForPromString(): MetricExport {
    const values: ExportValue[] = [];
    const bucket = `${this.name}_bucket`;
    for (const { labels, child } of this.children.values()) {
      let acc = 0;
      this.leText.forEach((le, i) => {
        acc += child.counts[i]!;
        values.push({
          labels: { le },
          sharedLabels: labels,
          value: acc,
          metricName: bucket,
        });
      });
      values.push({ labels: { le: '+Inf' }, sharedLabels: labels, value: child.count, metricName: bucket });
      values.push({ labels: {}, sharedLabels: labels, value: child.sum, metricName: `${this.name}_sum` });
      values.push({ labels: {}, sharedLabels: labels, value: child.count, metricName: `${this.name}_count` });
    }
    return { name: this.name, help: this.help, type: 'histogram', values, aggregator: 'sum' };
  }
}

/**
 * A bucket bound as Python's prometheus_client writes it (`floatToGoString`), which vLLM and NIM
 * use: Python's repr, so 1 is "1.0" and 0.25 is "0.25", with Go's exponent form from seven integer
 * digits on (1e6 is "1e+06"). Prometheus 3 normalises `le` on scrape, but on 2.x a selector like
 * `{le="1.0"}` written against vLLM matches only this text.
 */
export function goFloat(d: number): string {
  if (d === Infinity) return '+Inf';
  const s = Number.isInteger(d) ? d.toFixed(1) : String(d);
  const dot = s.indexOf('.');
  if (d <= 0 || dot <= 6) return s;
  const mantissa = `${s[0]}.${s.slice(1, dot)}${s.slice(dot + 1)}`.replace(/[0.]+$/, '');
  return `${mantissa}e+0${dot - 1}`;
}
