/** Settings of the simulated model and the system it runs on: which model, profile, GPU, how many. */
import { MODEL_NAMES } from '../../catalog/models.js';
import { int, num, oneOf, str } from './value-schemas.js';
import { settingGroup } from './define.js';

export const MODEL_HARDWARE_SETTINGS = settingGroup('model', {
  modelName: {
    env: 'NIM_MODEL_NAME',
    flag: 'model',
    schema: str(),
    default: 'meta/llama-3.1-8b-instruct',
    // The catalog's models, which a refusal of an unknown one points to.
    help: `catalog model simulated: ${MODEL_NAMES.join(', ')}`,
    arg: '<name>',
  },
  profile: {
    env: 'NIM_MODEL_PROFILE',
    flag: 'profile',
    schema: str(),
    unsetMeans: 'the best compatible',
    help: 'profile name or 64-hex id; sets precision and TP',
    arg: '<name|id>',
  },
  precision: {
    env: 'NIMSIM_PRECISION',
    schema: oneOf(['bf16', 'fp16', 'fp8', 'nvfp4', 'int4_awq']),
    unsetMeans: "the profile's",
    help: 'profile precision: bf16, fp16, fp8, nvfp4, int4_awq',
    arg: '<p>',
  },
  tp: {
    env: 'NIMSIM_TP',
    schema: int(1, 64),
    unsetMeans: "the profile's",
    help: 'profile tensor-parallel size',
    arg: '<n>',
  },
  gpu: {
    env: 'NIMSIM_GPU',
    schema: str(),
    default: 'h100-sxm',
    help: 'simulated GPU: a100-80gb, l40s, h100-sxm, h200, b200, gb200',
    arg: '<gpu>',
  },
  gpus: {
    env: 'NIMSIM_GPUS',
    schema: int(1, 64),
    default: '1',
    help: 'number of GPUs in the simulated system',
    arg: '<n>',
  },
  gpuMemoryUtilization: {
    env: 'NIMSIM_GPU_MEMORY_UTILIZATION',
    schema: num(0.05, 1),
    default: '0.9',
    help: 'fraction of GPU memory for weights and KV cache (tensorrt_llm: for KV, of what weights leave)',
    arg: '<f>',
  },
  frontend: {
    env: 'NIMSIM_FRONTEND',
    schema: oneOf(['nim', 'none']),
    default: 'nim',
    help: "nim: NIM's HTTP front end (streaming overlaps each step; request intake before queueing); none: in-process (trtllm-bench)",
    arg: '<nim|none>',
  },
  maxModelLen: {
    env: 'NIM_MAX_MODEL_LEN',
    schema: int(16),
    unsetMeans: "the model's",
    help: 'context length',
    arg: '<n>',
  },
});
