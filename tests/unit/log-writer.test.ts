import { setImmediate as nextTurn } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { createBatchedWriter, MAX_PENDING_CHARS } from '../../src/log-writer.js';

function recorded() {
  const chunks: string[] = [];
  return { chunks, write: createBatchedWriter((c) => chunks.push(c)) };
}

describe('batched log writer', () => {
  it('writes the lines of one event-loop turn as one chunk, in order, at the end of the turn', async () => {
    const { chunks, write } = recorded();
    write('a');
    write('b');
    write('c');
    expect(chunks).toEqual([]);
    await nextTurn();
    expect(chunks).toEqual(['a\nb\nc\n']);
    write('d');
    await nextTurn();
    expect(chunks).toEqual(['a\nb\nc\n', 'd\n']);
  });

  it('flush() writes what is pending at once, and nothing when nothing is', async () => {
    const { chunks, write } = recorded();
    write('x');
    write.flush();
    expect(chunks).toEqual(['x\n']);
    write.flush();
    await nextTurn();
    expect(chunks).toEqual(['x\n']);
  });

  it('writes at once when a turn piles up more than its bound', () => {
    const { chunks, write } = recorded();
    const line = 'y'.repeat(999);
    const lines = Math.ceil(MAX_PENDING_CHARS / 1000);
    for (let i = 0; i < lines; i++) write(line);
    expect(chunks).toEqual([`${line}\n`.repeat(lines)]);
  });
});
