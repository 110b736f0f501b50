/**
 * The endpoint under test. Loopback only unless the user opts in with `--allow-remote`: the kit is
 * meant to be pointed at a real NIM too, but never by accident.
 */
import net from 'node:net';

export interface Target {
  readonly host: string;
  readonly port: number;
  /** Path prefix before `/v1/...`, without a trailing slash ('' for the root). */
  readonly basePath: string;
  /** The served model name requests carry. */
  readonly model: string;
  /** Sent as `Authorization: Bearer <key>` when set. */
  readonly apiKey: string | undefined;
}

/** True for 127.0.0.0/8, ::1 and `localhost`. */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (h === 'localhost' || h === '::1') return true;
  return net.isIPv4(h) && h.startsWith('127.');
}

/**
 * Parses `http://host:port[/base]`; throws (with a message meant for the user) on other schemes or
 * a non-loopback host without `allowRemote`.
 */
export function parseTarget(
  url: string,
  opts: { model: string; apiKey?: string | undefined; allowRemote: boolean },
): Target {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new Error(`--url: not a URL: ${url}`);
  }
  if (u.protocol !== 'http:') throw new Error(`--url: only http:// is supported, got ${u.protocol}`);
  const host = u.hostname.replace(/^\[|\]$/g, '');
  if (!opts.allowRemote && !isLoopbackHost(host)) {
    throw new Error(`--url: ${host} is not a loopback address; pass --allow-remote to load it anyway`);
  }
  return {
    host,
    port: u.port === '' ? 80 : Number(u.port),
    basePath: u.pathname.replace(/\/+$/, '').replace(/\/v1$/, ''),
    model: opts.model,
    apiKey: opts.apiKey,
  };
}
