/**
 * NIM_PEFT_SOURCE: a directory with one folder per LoRA adapter, the folder's name being the
 * adapter's model id. At start every valid folder is loaded; with NIM_PEFT_REFRESH_INTERVAL the
 * directory is read again every so many seconds (server.ts keeps the timer), loading folders that
 * appeared and unloading adapters whose folder went away, as NIM's watcher does ("Dynamic LoRA",
 * https://docs.nvidia.com/nim/large-language-models/latest/advanced-use-cases/finetune-lora.html).
 * A folder that is not a valid adapter, or whose rank is over NIM_MAX_LORA_RANK, is skipped with
 * a warning ("Only valid, readable adapter directories are loaded"); it is tried again at the next
 * refresh. Adapters loaded through the API are left alone.
 */
import { readdirSync, statSync } from 'node:fs';
import { readProblem } from '../util/read-problem.js';
import { join } from 'node:path';
import { LoraError, type LoraAdapter, type LoraRegistry } from './lora-registry.js';

export interface PeftSourceLog {
  info(message: string, fields: Record<string, unknown>): void;
  warn(message: string, fields: Record<string, unknown>): void;
}

/** What one pass over the directory changed. */
export interface PeftSync {
  readonly loaded: readonly string[];
  readonly unloaded: readonly string[];
  /** Folders skipped, with why. */
  readonly skipped: readonly { readonly name: string; readonly reason: string }[];
}

/** The problem with `dir` as NIM_PEFT_SOURCE, or undefined when it is a readable directory. */
export function peftSourceProblem(dir: string): string | undefined {
  try {
    if (!statSync(dir).isDirectory()) return 'not a directory';
    readdirSync(dir);
    return undefined;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return code === 'ENOENT' ? 'no such directory' : readProblem(err);
  }
}

/** The adapter folders of `dir`, by name (hidden entries and plain files are not adapters). */
function adapterFolders(dir: string): Map<string, string> {
  const folders = new Map<string, string>();
  for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) =>
    a.name.localeCompare(b.name),
  )) {
    if (entry.name.startsWith('.')) continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory() || (entry.isSymbolicLink() && isDirectory(path))) folders.set(entry.name, path);
  }
  return folders;
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

export interface PeftSource {
  /**
   * Brings the registry's NIM_PEFT_SOURCE adapters in line with the folders of the directory. An
   * unreadable directory changes nothing (a warning says so): a passing mount problem does not
   * unload every adapter. A skipped folder is warned about once, until its reason changes.
   */
  sync(): PeftSync;
}

export function createPeftSource(registry: LoraRegistry, dir: string, log: PeftSourceLog): PeftSource {
  /** Folder name → the reason last warned about, so a bad folder does not warn at every refresh. */
  const warned = new Map<string, string>();
  return { sync: () => syncPeftSource(registry, dir, log, warned) };
}

function syncPeftSource(
  registry: LoraRegistry,
  dir: string,
  log: PeftSourceLog,
  warned: Map<string, string>,
): PeftSync {
  let folders: Map<string, string>;
  try {
    folders = adapterFolders(dir);
  } catch (err) {
    log.warn(`NIM_PEFT_SOURCE ${dir} not readable; adapters kept as they were`, {
      error: (err as NodeJS.ErrnoException).code ?? String(err),
    });
    return { loaded: [], unloaded: [], skipped: [] };
  }
  const unloaded: string[] = [];
  for (const adapter of registry.list()) {
    if (adapter.source === 'peft-source' && folders.get(adapter.name) !== adapter.path) {
      registry.unload(adapter.name);
      unloaded.push(adapter.name);
      log.info(`LoRA adapter unloaded: ${adapter.name} (its folder is gone)`, { lora_name: adapter.name });
    }
  }
  const loaded: string[] = [];
  const skipped: { name: string; reason: string }[] = [];
  for (const [name, path] of folders) {
    if (registry.get(name)) continue; // loaded already (from here, or through the API)
    try {
      const adapter = registry.load(name, path, { source: 'peft-source' });
      loaded.push(name);
      log.info(`LoRA adapter loaded: ${name}`, describe(adapter));
      warned.delete(name);
    } catch (err) {
      if (!(err instanceof LoraError)) throw err;
      skipped.push({ name, reason: err.message });
      if (warned.get(name) === err.message) continue;
      warned.set(name, err.message);
      log.warn(`LoRA adapter skipped: ${name}: ${err.message}`, { lora_name: name, lora_path: path });
    }
  }
  for (const name of warned.keys()) if (!folders.has(name)) warned.delete(name);
  return { loaded, unloaded, skipped };
}

function describe(adapter: LoraAdapter): Record<string, unknown> {
  return {
    lora_name: adapter.name,
    lora_path: adapter.path,
    lora_int_id: adapter.engine.id,
    format: adapter.format,
    rank: adapter.rank,
    ...(adapter.baseModelNameOrPath !== undefined
      ? { base_model_name_or_path: adapter.baseModelNameOrPath }
      : {}),
  };
}
