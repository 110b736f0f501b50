/**
 * `serve`'s KV events: when NIMSIM_KV_EVENTS_ENDPOINT is set, one publisher per replica, each its
 * data-parallel rank (= replica index) subscribed to that replica's observer hub, as vLLM's
 * data-parallel engines each publish on the endpoint's port plus their rank
 * (offset_endpoint_port, vllm/distributed/kv_events.py).
 */
import { ConfigError, type Config } from '../config/config.js';
import { describeSettingProblem, namedValue, nameFrom, originOf } from '../config/setting-names.js';
import type { ObserverHub } from '../engine/observer-hub.js';
import type { Logger } from '../logging.js';
import { createKvEventPublisher, type KvEventPublisher } from './publisher.js';

/**
 * The publisher `config` asks for, its sockets bound or connecting, subscribed to `observers`.
 * A bad combination or a failed bind (port taken, address not local) is a ConfigError naming the
 * setting, so `serve` exits 2 with one line.
 */
export async function startKvEventPublishing(
  config: Config,
  replicaObservers: readonly ObserverHub[],
  logger: Logger,
): Promise<KvEventPublisher[]> {
  const publishers: KvEventPublisher[] = [];
  try {
    for (let rank = 0; rank < replicaObservers.length; rank++)
      publishers.push(await startRank(config, replicaObservers[rank]!, logger, rank));
  } catch (err) {
    await Promise.all(publishers.map((p) => p.close(0)));
    throw err;
  }
  return publishers;
}

async function startRank(
  config: Config,
  observers: ObserverHub,
  logger: Logger,
  rank: number,
): Promise<KvEventPublisher> {
  const endpoint = config.kvEventsEndpoint;
  if (endpoint === undefined) {
    // The missing setting is named the way the user gave the other one (flag or env).
    const missing = nameFrom('kvEventsEndpoint', originOf(config, 'kvEventsReplayEndpoint').source);
    throw new ConfigError(
      describeSettingProblem(config, 'kvEventsReplayEndpoint', `needs ${missing} (the events to replay)`),
    );
  }
  let publisher: KvEventPublisher | undefined;
  try {
    publisher = createKvEventPublisher({
      endpoint,
      replayEndpoint: config.kvEventsReplayEndpoint,
      topic: config.kvEventsTopic,
      rank,
      format: config.kvEventsFormat,
      // vLLM stamps a batch with time.time() when its scheduler step makes it.
      wallSeconds: () => Date.now() / 1000,
      onError: (err) => logger.warn(`KV events: ${err.message}`, {}),
    });
    await publisher.ready;
  } catch (err) {
    await publisher?.close(0); // unset when the constructor threw
    const replay =
      config.kvEventsReplayEndpoint === undefined
        ? ''
        : ` (or ${namedValue(config, 'kvEventsReplayEndpoint')})`;
    throw new ConfigError(
      describeSettingProblem(
        config,
        'kvEventsEndpoint',
        `cannot publish there${replay}: ${(err as Error).message}`,
      ),
    );
  }
  observers.add(publisher.observer);
  logger.info(`publishing KV events on ${publisher.endpoint}`, {
    kv_events_rank: rank,
    kv_events_endpoint: publisher.endpoint,
    kv_events_replay_endpoint: publisher.replayEndpoint ?? null,
  });
  return publisher;
}
