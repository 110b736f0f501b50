/** Settings of the KV-event publisher: vLLM's ZeroMQ stream of cache changes that KV routers read. */
import { KV_EVENT_FORMATS } from '../../kv-events/wire-format.js';
import { oneOf, str, zmqEndpoint } from './value-schemas.js';
import { settingGroup } from './define.js';

export const KV_EVENTS_SETTINGS = settingGroup('kvEvents', {
  kvEventsEndpoint: {
    env: 'NIMSIM_KV_EVENTS_ENDPOINT',
    schema: zmqEndpoint(),
    unsetMeans: 'off',
    help: "publish vLLM's KV events on this ZeroMQ endpoint (tcp://*:PORT binds)",
    arg: '<url>',
    serveOnly: true,
  },
  kvEventsTopic: {
    env: 'NIMSIM_KV_EVENTS_TOPIC',
    schema: str(),
    default: 'kv-events',
    help: 'topic frame of each KV-event message (subscribers filter on it)',
    arg: '<topic>',
    serveOnly: true,
  },
  kvEventsReplayEndpoint: {
    env: 'NIMSIM_KV_EVENTS_REPLAY_ENDPOINT',
    schema: zmqEndpoint(),
    unsetMeans: 'off',
    help: "ZeroMQ endpoint answering replays of the last 10000 batches (vLLM's)",
    arg: '<url>',
    serveOnly: true,
  },
  kvEventsFormat: {
    env: 'NIMSIM_KV_EVENTS_FORMAT',
    schema: oneOf(KV_EVENT_FORMATS),
    default: 'array',
    help: "msgpack shape: array (what vLLM's KV routers decode) or map (newer vLLM)",
    arg: '<format>',
    serveOnly: true,
  },
});
