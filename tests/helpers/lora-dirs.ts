/** LoRA adapter folders on disk, as NIM_PEFT_SOURCE holds them (no real weights: nimsim never reads them). */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A fresh NIM_PEFT_SOURCE directory; removed by `cleanup`. */
export function peftSourceDir(): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'nimsim-loras-'));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A Hugging Face PEFT adapter folder: adapter_config.json and an (empty) adapter_model.safetensors. */
export function hfAdapter(dir: string, name: string, config: Record<string, unknown> = { r: 16 }): string {
  const path = join(dir, name);
  mkdirSync(path, { recursive: true });
  writeFileSync(join(path, 'adapter_config.json'), JSON.stringify(config));
  writeFileSync(join(path, 'adapter_model.safetensors'), '');
  return path;
}

/** A NeMo adapter folder: one .nemo file. */
export function nemoAdapter(dir: string, name: string): string {
  const path = join(dir, name);
  mkdirSync(path, { recursive: true });
  writeFileSync(join(path, `${name}.nemo`), '');
  return path;
}
