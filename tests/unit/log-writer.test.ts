import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setImmediate as nextTurn, setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import {
  createBatchedWriter,
  fdSink,
  MAX_BACKLOG_BYTES,
  MAX_PENDING_CHARS,
  RETRY_MS,
  type ByteSink,
} from '../../src/log-writer.js';

/**
 * A sink that takes at most `room` bytes per tryWrite (Infinity: all), recording what it was
 * given: `tries` the text of each tryWrite call (none when it takes nothing), `written` everything it accepted, `waits` the text
 * of each writeAll call.
 */
function fakeSink(room = Infinity) {
  const tries: string[] = [];
  const waits: string[] = [];
  let written = '';
  const sink: ByteSink = {
    tryWrite(chunks) {
      // A sink that takes nothing records no text (the backlog test hands it megabytes a turn).
      if (room === 0) return 0;
      const text = Buffer.concat(chunks).toString();
      tries.push(text);
      const n = Math.min(room, Buffer.byteLength(text));
      written += Buffer.from(text).subarray(0, n).toString();
      return n;
    },
    writeAll(chunks) {
      const text = Buffer.concat(chunks).toString();
      waits.push(text);
      written += text;
    },
  };
  return {
    sink,
    tries,
    waits,
    get written() {
      return written;
    },
  };
}

describe('batched log writer', () => {
  it('writes the lines of one event-loop turn in one write, in order, at the end of the turn', async () => {
    const s = fakeSink();
    const write = createBatchedWriter(s.sink);
    write('a');
    write('b');
    write('c');
    expect(s.tries).toEqual([]);
    await nextTurn();
    expect(s.tries).toEqual(['a\nb\nc\n']);
    write('d');
    await nextTurn();
    expect(s.tries).toEqual(['a\nb\nc\n', 'd\n']);
    expect(s.waits).toEqual([]);
  });

  it('flush() writes what is pending at once, waiting if it must, and nothing when nothing is', async () => {
    const s = fakeSink();
    const write = createBatchedWriter(s.sink);
    write('x');
    write.flush();
    expect(s.waits).toEqual(['x\n']);
    write.flush();
    await nextTurn();
    expect(s.waits).toEqual(['x\n']);
    expect(s.tries).toEqual([]);
  });

  it('writes at once when a turn piles up more than its bound', () => {
    const s = fakeSink();
    const write = createBatchedWriter(s.sink);
    const line = 'y'.repeat(999);
    const lines = Math.ceil(MAX_PENDING_CHARS / 1000);
    for (let i = 0; i < lines; i++) write(line);
    expect(s.tries).toEqual([`${line}\n`.repeat(lines)]);
  });

  it('keeps what a slow reader does not take and retries it, in order, without waiting', async () => {
    const s = fakeSink(7);
    const write = createBatchedWriter(s.sink);
    write('first line');
    write('second');
    await nextTurn();
    expect(s.written).toBe('first l');
    write('third');
    for (let i = 0; i < 50 && s.written.length < 25; i++) await sleep(RETRY_MS * 2);
    expect(s.written).toBe('first line\nsecond\nthird\n');
    // 25 bytes at 7 a write: at least 4 writes, the later ones retries of what was left.
    expect(s.tries.length).toBeGreaterThanOrEqual(4);
    expect(s.waits).toEqual([]);
  });

  it('flush() writes the backlog before this turn’s lines', async () => {
    const s = fakeSink(0);
    const write = createBatchedWriter(s.sink);
    write('old');
    await nextTurn();
    write('new');
    write.flush();
    expect(s.waits).toEqual(['old\nnew\n']);
    expect(s.written).toBe('old\nnew\n');
  });

  it('waits for the reader once the backlog passes its bound, so no line is dropped', async () => {
    const s = fakeSink(0);
    const write = createBatchedWriter(s.sink);
    const line = 'z'.repeat(1023);
    const perTurn = 60;
    let sent = 0;
    while (s.waits.length === 0 && sent < 2 * (MAX_BACKLOG_BYTES / 1024)) {
      for (let i = 0; i < perTurn; i++) write(line);
      sent += perTurn;
      await nextTurn();
    }
    expect(sent * 1024).toBeGreaterThan(MAX_BACKLOG_BYTES);
    expect(s.waits).toHaveLength(1);
    expect(s.waits[0]).toBe(`${line}\n`.repeat(sent));
  });

  it('writes a file descriptor, and drops what a failing one refuses instead of throwing', () => {
    const dir = mkdtempSync(join(tmpdir(), 'nimsim-log-'));
    const file = join(dir, 'log');
    writeFileSync(file, '');
    const rw = openSync(file, 'a');
    const ro = openSync(file, 'r');
    try {
      const ok = fdSink(rw, undefined);
      expect(ok.tryWrite([Buffer.from('a\n'), Buffer.from('b\n')])).toBe(4);
      ok.writeAll([Buffer.from('c\n')]);
      expect(readFileSync(file, 'utf8')).toBe('a\nb\nc\n');
      // Not open for writing: EBADF, the log carries on without these lines.
      const failing = fdSink(ro, undefined);
      expect(failing.tryWrite([Buffer.from('lost\n')])).toBe(5);
      expect(() => failing.writeAll([Buffer.from('lost\n')])).not.toThrow();
      expect(readFileSync(file, 'utf8')).toBe('a\nb\nc\n');
    } finally {
      closeSync(rw);
      closeSync(ro);
      rmSync(dir, { recursive: true });
    }
  });
});
