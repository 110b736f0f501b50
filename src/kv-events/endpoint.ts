/**
 * ZMQ endpoints as vLLM's ZmqEventPublisher reads them (vllm/distributed/kv_events.py): which ones
 * it binds and which it connects to, and the port offset each data-parallel rank gets.
 */

/** tcp://host:port, ipc://path or inproc://name: the transports vLLM's publisher is used with. */
const ENDPOINT = /^(tcp:\/\/(\*|\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})|ipc:\/\/\S+|inproc:\/\/\S+)$/;

/** Why `endpoint` is not usable, or undefined when it is. */
export function endpointProblem(endpoint: string): string | undefined {
  const m = ENDPOINT.exec(endpoint);
  if (!m) return 'must be tcp://HOST:PORT (HOST * binds every interface), ipc://PATH or inproc://NAME';
  if (m[3] !== undefined) {
    const port = Number(m[3]);
    if (port < 1 || port > 65535) return 'port must be from 1 to 65535';
  }
  return undefined;
}

/**
 * vLLM's heuristic (`_socket_setup`): bind when the address is a wildcard (`*`, `::`) or local
 * (ipc, inproc) — the stable side — else connect to it (a collector that binds).
 */
export function bindsEndpoint(endpoint: string): boolean {
  return (
    endpoint.includes('*') ||
    endpoint.includes('::') ||
    endpoint.startsWith('ipc://') ||
    endpoint.startsWith('inproc://')
  );
}

/**
 * vLLM's `offset_endpoint_port`: rank 0 keeps the endpoint; rank r adds r to a tcp port, or
 * appends `_dp<r>` to an inproc name. Other transports cannot be offset (vLLM raises).
 */
export function offsetEndpointPort(endpoint: string, rank: number): string {
  if (rank === 0) return endpoint;
  if (endpoint.includes('inproc')) return `${endpoint}_dp${rank}`;
  if (endpoint.includes('tcp')) {
    const colon = endpoint.lastIndexOf(':');
    return `${endpoint.slice(0, colon)}:${Number(endpoint.slice(colon + 1)) + rank}`;
  }
  throw new Error(`KV events endpoint ${endpoint}: only tcp and inproc endpoints can serve several ranks`);
}
