/** Settings of LoRA adapters: where they are found and how many of what rank a batch may mix. */
import { int, oneOfInts, str } from './value-schemas.js';
import { settingGroup } from './define.js';

/** The ranks vLLM's --max-lora-rank accepts (`MaxLoRARanks`, vllm/config/lora.py). */
export const LORA_RANKS = [1, 8, 16, 32, 64, 128, 256, 320, 512] as const;

export const LORA_SETTINGS = settingGroup('lora', {
  peftSource: {
    env: 'NIM_PEFT_SOURCE',
    schema: str(),
    unsetMeans: 'none, LoRA off',
    help: 'directory of LoRA adapters, one folder each, named as its model id',
    arg: '<dir>',
    serveOnly: true,
  },
  peftRefreshInterval: {
    env: 'NIM_PEFT_REFRESH_INTERVAL',
    schema: int(1, 86_400),
    unsetMeans: 'read once',
    help: 'seconds between rescans of --peft-source for added or removed adapters',
    arg: '<s>',
    serveOnly: true,
  },
  maxGpuLoras: {
    env: 'NIM_MAX_GPU_LORAS',
    schema: int(1, 1024),
    default: '8',
    help: 'most distinct LoRA adapters one batch mixes (vLLM --max-loras)',
    arg: '<n>',
  },
  maxLoraRank: {
    env: 'NIM_MAX_LORA_RANK',
    schema: oneOfInts(LORA_RANKS),
    default: '32',
    help: `highest LoRA rank loaded: ${LORA_RANKS.join(', ')} (vLLM --max-lora-rank)`,
    arg: '<r>',
    serveOnly: true,
  },
});
