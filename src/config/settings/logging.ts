/** Settings of the log: how much it says and in which form. */
import { z } from 'zod';
import { bool, mustBeOneOf } from './value-schemas.js';
import { settingGroup } from './define.js';

/** Log levels, NIM's (TRACE is nimsim's finer DEBUG). */
const LOG_LEVELS = ['TRACE', 'DEBUG', 'INFO', 'WARNING', 'ERROR', 'CRITICAL'] as const;

export const LOGGING_SETTINGS = settingGroup('logging', {
  logLevel: {
    env: 'NIM_LOG_LEVEL',
    schema: z
      .string()
      .trim()
      .toUpperCase()
      .pipe(z.enum(LOG_LEVELS, { error: mustBeOneOf(LOG_LEVELS) })),
    default: 'INFO',
    help: 'TRACE, DEBUG, INFO, WARNING, ERROR or CRITICAL',
    arg: '<level>',
  },
  jsonlLogging: {
    env: 'NIM_JSONL_LOGGING',
    schema: bool(),
    default: '0',
    help: 'log JSON lines instead of text',
    arg: '<0|1>',
  },
});
