/**
 * A small MessagePack writer for the KV-event wire format (wire-format.ts), writing each value the
 * way Python's msgspec does (https://jcristharif.com/msgspec/): unsigned integers in their
 * smallest form, floats always as float64 (a JS encoder writes an integral number as an int, and a
 * `ts` of exactly n seconds must still decode as a float), str, nil, arrays and maps. Only what
 * the format needs; values are written in order, so a batch is encoded without an intermediate
 * object tree.
 */

export class MsgpackWriter {
  private buf = Buffer.allocUnsafe(1024);
  private pos = 0;

  /** The bytes written so far (a copy: the writer can be reset and reused). */
  finish(): Buffer {
    return Buffer.from(this.buf.subarray(0, this.pos));
  }

  reset(): void {
    this.pos = 0;
  }

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  nil(): void {
    this.ensure(1);
    this.buf[this.pos++] = 0xc0;
  }

  /** A non-negative safe integer (keys, token ids, sizes, ranks). */
  uint(v: number): void {
    if (!Number.isSafeInteger(v) || v < 0)
      throw new RangeError(`msgpack uint: ${v} is not a non-negative safe integer`);
    this.ensure(9);
    const b = this.buf;
    if (v < 0x80) {
      b[this.pos++] = v;
    } else if (v <= 0xff) {
      b[this.pos++] = 0xcc;
      b[this.pos++] = v;
    } else if (v <= 0xffff) {
      b[this.pos++] = 0xcd;
      b.writeUInt16BE(v, this.pos);
      this.pos += 2;
    } else if (v <= 0xffffffff) {
      b[this.pos++] = 0xce;
      b.writeUInt32BE(v, this.pos);
      this.pos += 4;
    } else {
      b[this.pos++] = 0xcf;
      b.writeUInt32BE(Math.floor(v / 0x1_0000_0000), this.pos);
      b.writeUInt32BE(v % 0x1_0000_0000, this.pos + 4);
      this.pos += 8;
    }
  }

  /** `v` or nil. */
  uintOrNil(v: number | null): void {
    if (v === null) this.nil();
    else this.uint(v);
  }

  float64(v: number): void {
    this.ensure(9);
    this.buf[this.pos++] = 0xcb;
    this.buf.writeDoubleBE(v, this.pos);
    this.pos += 8;
  }

  str(s: string): void {
    const len = Buffer.byteLength(s);
    this.ensure(5 + len);
    const b = this.buf;
    if (len < 32) {
      b[this.pos++] = 0xa0 | len;
    } else if (len <= 0xff) {
      b[this.pos++] = 0xd9;
      b[this.pos++] = len;
    } else if (len <= 0xffff) {
      b[this.pos++] = 0xda;
      b.writeUInt16BE(len, this.pos);
      this.pos += 2;
    } else {
      b[this.pos++] = 0xdb;
      b.writeUInt32BE(len, this.pos);
      this.pos += 4;
    }
    this.pos += b.write(s, this.pos, 'utf8');
  }

  arrayHeader(n: number): void {
    this.header(n, 0x90, 0xdc, 0xdd);
  }

  mapHeader(n: number): void {
    this.header(n, 0x80, 0xde, 0xdf);
  }

  /** An array of non-negative integers. */
  uintArray(values: readonly number[]): void {
    this.arrayHeader(values.length);
    for (const v of values) this.uint(v);
  }

  private header(n: number, fix: number, x16: number, x32: number): void {
    this.ensure(5);
    const b = this.buf;
    if (n < 16) {
      b[this.pos++] = fix | n;
    } else if (n <= 0xffff) {
      b[this.pos++] = x16;
      b.writeUInt16BE(n, this.pos);
      this.pos += 2;
    } else {
      b[this.pos++] = x32;
      b.writeUInt32BE(n, this.pos);
      this.pos += 4;
    }
  }
}
