/** A worker of calibration/table-pool.ts: replays the tables it is sent, one at a time. */
import { readFileSync } from 'node:fs';
import { parentPort } from 'node:worker_threads';
import { withEfficiency } from '../src/catalog/efficiency.js';
import { evaluateTable, type CalibrationData } from './evaluate.js';
import type { TableTask, TaskResult } from './table-pool.js';

const data = JSON.parse(readFileSync(new URL('./data.json', import.meta.url), 'utf8')) as CalibrationData;
const port = parentPort!;

port.on('message', ({ index, task }: { index: number; task: TableTask }) => {
  let result: TaskResult;
  try {
    const table = data.tables.find((t) => t.id === task.tableId);
    if (!table) throw new Error('no such table in calibration/data.json');
    result = { index, comparisons: withEfficiency(task.overrides, () => evaluateTable(table, task.quick)) };
  } catch (error) {
    result = { index, error: error instanceof Error ? (error.stack ?? error.message) : String(error) };
  }
  port.postMessage(result);
});
port.postMessage('ready');
