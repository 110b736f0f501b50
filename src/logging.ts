/**
 * Logging in NIM's two styles: text lines, or JSON lines with NIM_JSONL_LOGGING=1. Levels are
 * NIM_LOG_LEVEL's (DEBUG, INFO, WARNING, ERROR, CRITICAL). Lines go to stderr through the batched
 * writer of log-writer.ts: one write per event-loop turn, not per line.
 */
import { stderrLines } from './log-writer.js';

export type LogLevel = 'TRACE' | 'DEBUG' | 'INFO' | 'WARNING' | 'ERROR' | 'CRITICAL';

const RANK: Record<LogLevel, number> = {
  TRACE: 5,
  DEBUG: 10,
  INFO: 20,
  WARNING: 30,
  ERROR: 40,
  CRITICAL: 50,
};

export interface Logger {
  log(level: LogLevel, message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
  enabled(level: LogLevel): boolean;
}

export function createLogger(
  level: LogLevel,
  jsonl: boolean,
  write: (line: string) => void = stderrLines(),
): Logger {
  const min = RANK[level];
  const enabled = (l: LogLevel) => RANK[l] >= min;
  const log = (l: LogLevel, message: string, fields: Record<string, unknown> = {}) => {
    if (!enabled(l)) return;
    const time = new Date().toISOString();
    if (jsonl) {
      write(JSON.stringify({ time, level: l, logger: 'nimsim', message, ...fields }));
      return;
    }
    const extra = Object.entries(fields)
      .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
      .join(' ');
    write(`${time} ${l.padEnd(7)} nimsim: ${message}${extra ? ' ' + extra : ''}`);
  };
  return {
    log,
    enabled,
    info: (m, f) => log('INFO', m, f),
    warn: (m, f) => log('WARNING', m, f),
    error: (m, f) => log('ERROR', m, f),
  };
}
