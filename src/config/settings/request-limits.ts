/**
 * Settings that bound one request: its tokens and logprobs, its body and head, how long it may take
 * to arrive, and how much of its stream is held for a client that does not read.
 */
import { int } from './value-schemas.js';
import { settingGroup } from './define.js';

export const REQUEST_LIMIT_SETTINGS = settingGroup('limits', {
  maxTokensPerRequest: {
    env: 'NIMSIM_MAX_TOKENS_PER_REQUEST',
    schema: int(1),
    default: String(2 ** 20),
    help: 'most tokens per request, prompt and output of all choices; beyond: 400',
    arg: '<n>',
    serveOnly: true,
  },
  maxLogprobsPerRequest: {
    env: 'NIMSIM_MAX_LOGPROBS_PER_REQUEST',
    schema: int(0),
    default: String(2 ** 20),
    help: 'most logprob entries per response; beyond: 400',
    arg: '<n>',
    serveOnly: true,
  },
  maxBodyBytes: {
    env: 'NIMSIM_MAX_BODY_BYTES',
    // A body is held whole and decoded to one string: 256 MiB stays far below V8's longest
    // string (~512 MiB, beyond which decoding fails) and within a small pod's memory.
    schema: int(1024, 256 * 1024 * 1024),
    default: String(16 * 1024 * 1024),
    help: 'largest request body accepted; larger gets 413',
    arg: '<bytes>',
    serveOnly: true,
  },
  streamBufferBytes: {
    env: 'NIMSIM_STREAM_BUFFER_BYTES',
    schema: int(16 * 1024, 1024 * 1024 * 1024),
    default: String(1024 * 1024),
    help: 'bytes held for a client that does not read; beyond, the stream is aborted',
    arg: '<bytes>',
    serveOnly: true,
  },
  maxHeaderBytes: {
    env: 'NIMSIM_MAX_HEADER_BYTES',
    schema: int(1024, 1024 * 1024),
    default: '16384',
    help: 'largest request head (request line and headers) accepted; larger gets 431',
    arg: '<bytes>',
    serveOnly: true,
  },
  requestTimeoutMs: {
    env: 'NIMSIM_REQUEST_TIMEOUT_MS',
    schema: int(1000),
    default: '30000',
    help: 'time allowed to receive a whole request; slower clients get 408',
    arg: '<ms>',
    serveOnly: true,
  },
});
