/**
 * Adapter folders as NIM accepts them (src/lora/adapter-dir.ts) and the registry's ids, parents
 * and refusals (src/lora/lora-registry.ts).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { findModel } from '../../src/catalog/models.js';
import { readAdapterDir } from '../../src/lora/adapter-dir.js';
import { createLoraRegistry, LoraError } from '../../src/lora/lora-registry.js';
import { hfAdapter, nemoAdapter, peftSourceDir } from '../helpers/lora-dirs.js';

const source = peftSourceDir();
afterAll(() => source.cleanup());
const MODEL = findModel('meta/llama-3.1-8b-instruct')!;

function folder(name: string, files: Record<string, string>): string {
  const path = join(source.dir, name);
  mkdirSync(path);
  for (const [file, text] of Object.entries(files)) writeFileSync(join(path, file), text);
  return path;
}

describe('readAdapterDir', () => {
  it('reads a Hugging Face adapter: rank, target modules and base model from adapter_config.json', () => {
    const path = hfAdapter(source.dir, 'hf', {
      r: 32,
      target_modules: ['q_proj', 'k_proj', 'v_proj', 'o_proj'],
      base_model_name_or_path: 'meta-llama/Llama-3.1-8B-Instruct',
    });
    expect(readAdapterDir(path)).toEqual({
      format: 'huggingface',
      rank: 32,
      targetModules: ['q_proj', 'k_proj', 'v_proj', 'o_proj'],
      baseModelNameOrPath: 'meta-llama/Llama-3.1-8B-Instruct',
    });
  });

  it("takes adapter_model.bin as well, and PEFT's rank 8 when r is absent", () => {
    const path = folder('bin', { 'adapter_config.json': '{}', 'adapter_model.bin': '' });
    expect(readAdapterDir(path)).toEqual({
      format: 'huggingface',
      rank: 8,
      targetModules: ['q_proj', 'v_proj'],
    });
  });

  it("reads a NeMo adapter (one .nemo file) with NeMo's defaults", () => {
    expect(readAdapterDir(nemoAdapter(source.dir, 'nemo'))).toEqual({
      format: 'nemo',
      rank: 32,
      targetModules: ['attention_qkv'],
    });
  });

  it('says why a folder is not an adapter, and whether it is missing altogether', () => {
    const cases: [string, string][] = [
      [folder('no-weights', { 'adapter_config.json': '{}' }), 'adapter_config.json without'],
      [folder('bad-json', { 'adapter_config.json': '{', 'adapter_model.bin': '' }), 'unreadable'],
      [folder('bad-rank', { 'adapter_config.json': '{"r": "16"}', 'adapter_model.bin': '' }), 'r="16"'],
      [folder('two-nemo', { 'a.nemo': '', 'b.nemo': '' }), '2 .nemo files'],
      [folder('empty', {}), 'neither adapter_config.json'],
    ];
    for (const [path, problem] of cases) {
      const r = readAdapterDir(path);
      expect(r, path).toMatchObject({ missing: false });
      expect((r as { problem: string }).problem, path).toContain(problem);
    }
    expect(readAdapterDir(join(source.dir, 'nowhere'))).toMatchObject({ missing: true });
    expect(readAdapterDir(join(source.dir, 'empty', '..', 'bin', 'adapter_model.bin'))).toMatchObject({
      problem: 'not a directory',
      missing: true,
    });
  });
});

describe('the LoRA registry', () => {
  const served = ['meta/llama-3.1-8b-instruct', 'llama-3.1-8b'];
  const path = hfAdapter(source.dir, 'reg', { r: 16, base_model_name_or_path: 'Llama-3.1-8B' });

  it("gives each load vLLM's next lora_int_id, a reload in place included, and sizes the adapter", () => {
    const loras = createLoraRegistry({ model: MODEL, servedModels: served, maxLoraRank: 32, nowS: () => 7 });
    const a = loras.load('a', path, { source: 'api' });
    const b = loras.load('b', path, { source: 'api' });
    expect([a.engine.id, b.engine.id]).toEqual([1, 2]);
    const again = loras.load('a', path, { source: 'api', inplace: true });
    expect(again.engine.id).toBe(3);
    expect(loras.list().map((x) => x.name)).toEqual(['a', 'b']);
    expect(a.engine.params).toBe(16 * 32 * (8192 + 5120));
    expect(a.createdS).toBe(7);
  });

  it('lists an adapter under the served base model its config names, else the first', () => {
    const loras = createLoraRegistry({ model: MODEL, servedModels: served, maxLoraRank: 32 });
    expect(loras.load('named', path, { source: 'api' }).parent).toBe('llama-3.1-8b');
    const other = hfAdapter(source.dir, 'other-base', { base_model_name_or_path: 'mistralai/Mistral-7B' });
    expect(loras.load('unnamed', other, { source: 'api' }).parent).toBe('meta/llama-3.1-8b-instruct');
  });

  it('refuses the name of a base model, and unloading nothing', () => {
    const loras = createLoraRegistry({ model: MODEL, servedModels: served, maxLoraRank: 32 });
    expect(() => loras.load('llama-3.1-8b', path, { source: 'api' })).toThrow(LoraError);
    expect(() => loras.unload('')).toThrow("'lora_name' needs to be provided to unload a LoRA adapter.");
  });
});
