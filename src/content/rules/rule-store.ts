/**
 * The rules in force: loaded from NIMSIM_RULES_FILE at start (an invalid file stops the server),
 * reloaded when the file changes (an invalid edit is logged and the previous rules stay), and
 * replaceable at run time (PATCH /admin/config `rules`).
 */
import { watch, type FSWatcher } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import type { Rule } from './rule-schema.js';
import { loadRulesFile } from './rules-file.js';

export interface RuleStore {
  /** The current rules, in order. */
  rules(): readonly Rule[];
  /** Replaces the rules (already validated) until the file next changes. */
  replace(rules: readonly Rule[]): void;
  /** The rules file, if any. */
  readonly file: string | undefined;
  /** Stops watching the file. */
  close(): void;
}

export interface RuleStoreOptions {
  readonly file?: string | undefined;
  /** Watch the file and reload on change (serve does; tests may not). */
  readonly watch?: boolean | undefined;
  readonly onReload?: ((count: number) => void) | undefined;
  readonly onReloadError?: ((error: Error) => void) | undefined;
}

/** Debounce for editors that write a file in several steps. */
const RELOAD_DELAY_MS = 50;

/** Loads the file now; throws RulesFileError (file, line, problem) if it is invalid. */
export function createRuleStore(opts: RuleStoreOptions = {}): RuleStore {
  const file = opts.file === undefined ? undefined : resolve(opts.file);
  let current: readonly Rule[] = file === undefined ? [] : loadRulesFile(file);
  let watcher: FSWatcher | undefined;
  let timer: NodeJS.Timeout | undefined;

  const reload = () => {
    timer = undefined;
    if (file === undefined) return;
    try {
      current = loadRulesFile(file);
      opts.onReload?.(current.length);
    } catch (err) {
      opts.onReloadError?.(err as Error);
    }
  };

  if (file !== undefined && opts.watch === true) {
    // Watch the directory: editors often replace the file (rename), which ends a file watch.
    const name = basename(file);
    watcher = watch(dirname(file), { persistent: false }, (_event, changed) => {
      if (changed !== null && changed !== name) return;
      if (timer !== undefined) clearTimeout(timer);
      timer = setTimeout(reload, RELOAD_DELAY_MS);
    });
    watcher.on('error', (err) => opts.onReloadError?.(err));
  }

  return {
    file,
    rules: () => current,
    replace(rules) {
      current = [...rules];
    },
    close() {
      watcher?.close();
      if (timer !== undefined) clearTimeout(timer);
    },
  };
}
