/**
 * vLLM's `vllm:lora_requests_info` (vllm/v1/metrics/loggers.py, PrometheusStatLogger): a gauge
 * set to the current Unix time, whose labels say which adapters the running and the waiting
 * requests use (`running_lora_adapters`, `waiting_lora_adapters`, each a comma-separated list) and
 * the batch limit (`max_lora`). vLLM registers it only with LoRA enabled, sets it at each engine
 * iteration, and never removes a label set: every combination seen stays, with the time it was
 * last current, so a query takes the newest series. nimsim sets it at each scrape from the
 * engine's snapshot (docs/metrics.md#lora).
 */
import { Gauge, type Registry } from 'prom-client';
import type { EngineStats } from '../engine/types.js';

export function registerLoraMetrics(
  registry: Registry,
  stats: () => EngineStats,
  nowS = () => Date.now() / 1000,
): void {
  if (stats().loraAdapters === undefined) return;
  new Gauge({
    name: 'vllm:lora_requests_info',
    help: 'Running stats on lora requests.',
    labelNames: ['max_lora', 'waiting_lora_adapters', 'running_lora_adapters'],
    registers: [registry],
    collect() {
      const loras = stats().loraAdapters;
      if (!loras) return;
      this.set(
        {
          max_lora: String(loras.maxLoras),
          waiting_lora_adapters: loras.waiting.join(','),
          running_lora_adapters: loras.running.join(','),
        },
        nowS(),
      );
    },
  });
}
