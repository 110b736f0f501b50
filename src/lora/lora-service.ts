/**
 * LoRA in `serve`: when NIM_PEFT_SOURCE is set, the adapter registry, loaded from the directory at
 * start and, with NIM_PEFT_REFRESH_INTERVAL, again every so many seconds on a wall-clock timer of
 * the server's (never the engine's: the engine sees adapters only on the requests naming them).
 * A NIM_PEFT_SOURCE that is not a readable directory is a bad setting (exit 2).
 */
import type { ModelCard } from '../catalog/model-card.js';
import { ConfigError, type Config } from '../config/config.js';
import { describeSettingProblem } from '../config/setting-names.js';
import type { Logger } from '../logging.js';
import { createLoraRegistry, type LoraRegistry } from './lora-registry.js';
import { createPeftSource, peftSourceProblem, type PeftSync } from './peft-source.js';

export interface LoraService {
  readonly registry: LoraRegistry;
  /** Reads NIM_PEFT_SOURCE again now (what the timer does). */
  refresh(): PeftSync;
  /** Stops the refresh timer. */
  close(): void;
}

export function createLoraService(
  config: Pick<Config, 'peftSource' | 'peftRefreshInterval' | 'maxLoraRank'>,
  model: ModelCard,
  servedModels: readonly string[],
  logger: Pick<Logger, 'info' | 'warn'>,
): LoraService | undefined {
  const dir = config.peftSource;
  if (dir === undefined) return undefined;
  const problem = peftSourceProblem(dir);
  if (problem !== undefined) {
    throw new ConfigError(
      describeSettingProblem(config, 'peftSource', `${problem}; allowed: a local directory`),
    );
  }
  const registry = createLoraRegistry({ model, servedModels, maxLoraRank: config.maxLoraRank });
  const log = {
    info: (m: string, f: Record<string, unknown>) => logger.info(m, f),
    warn: (m: string, f: Record<string, unknown>) => logger.warn(m, f),
  };
  const source = createPeftSource(registry, dir, log);
  const first = source.sync();
  logger.info(`LoRA: ${first.loaded.length} adapter(s) from ${dir}`, {
    peft_source: dir,
    loaded: first.loaded,
    refresh_interval_s: config.peftRefreshInterval ?? null,
  });
  const interval = config.peftRefreshInterval;
  const timer = interval === undefined ? undefined : setInterval(() => source.sync(), interval * 1000);
  // The refresh never keeps the process alive on its own.
  timer?.unref();
  return {
    registry,
    refresh: () => source.sync(),
    close: () => clearInterval(timer),
  };
}
