/**
 * Errors Node's HTTP parser raises before a request reaches Hono: a head over
 * NIMSIM_MAX_HEADER_BYTES (431), a request not received within NIMSIM_REQUEST_TIMEOUT_MS (408),
 * and malformed HTTP (400). Node answers these with an empty body by default; here they get the
 * same JSON error body as every other failure, then the connection closes (the parser's state is
 * lost, so it cannot be reused). Node docs, http 'clientError' event.
 */
import { STATUS_CODES, type Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { errorBody, type ApiCompat } from '../../serving/errors.js';

function statusOf(code: string | undefined): number {
  if (code === 'HPE_HEADER_OVERFLOW') return 431;
  if (code === 'ERR_HTTP_REQUEST_TIMEOUT') return 408;
  return 400;
}

const MESSAGES: Record<number, string> = {
  431: 'The request headers are larger than the limit (NIMSIM_MAX_HEADER_BYTES).',
  408: 'The request was not received in time (NIMSIM_REQUEST_TIMEOUT_MS).',
  400: 'Malformed HTTP request.',
};

export function installClientErrorHandler(server: Server, compat: ApiCompat): void {
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => {
    if (err.code === 'ECONNRESET' || !socket.writable) {
      socket.destroy();
      return;
    }
    const status = statusOf(err.code);
    const body = JSON.stringify(
      errorBody({ message: MESSAGES[status]!, type: 'BadRequestError', param: null, code: status }, compat),
    );
    socket.end(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\n` +
        'content-type: application/json\r\n' +
        `content-length: ${Buffer.byteLength(body)}\r\n` +
        'connection: close\r\n\r\n' +
        body,
    );
  });
}
