/**
 * A binary min-heap of block ids with a position index, so any member can be removed in
 * O(log n). Storage is two Int32Arrays of the id space's size (8 bytes per block).
 */

export interface IndexedHeap {
  readonly size: number;
  has(id: number): boolean;
  push(id: number): void;
  /** Removes `id` if present. */
  remove(id: number): void;
  /** Removes and returns the smallest id by `less`; -1 when empty. */
  pop(): number;
  clear(): void;
}

/** A heap over ids 0 … capacity-1 ordered by `less(a, b)` (true when a comes out first). */
export function createIndexedHeap(capacity: number, less: (a: number, b: number) => boolean): IndexedHeap {
  const heap = new Int32Array(capacity);
  const pos = new Int32Array(capacity).fill(-1);
  let size = 0;

  function place(i: number, id: number): void {
    heap[i] = id;
    pos[id] = i;
  }

  function siftUp(i: number): void {
    const id = heap[i]!;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const p = heap[parent]!;
      if (!less(id, p)) break;
      place(i, p);
      i = parent;
    }
    place(i, id);
  }

  function siftDown(i: number): void {
    const id = heap[i]!;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= size) break;
      const right = left + 1;
      let child = left;
      if (right < size && less(heap[right]!, heap[left]!)) child = right;
      const c = heap[child]!;
      if (!less(c, id)) break;
      place(i, c);
      i = child;
    }
    place(i, id);
  }

  function removeAt(i: number): void {
    const id = heap[i]!;
    pos[id] = -1;
    size--;
    if (i === size) return;
    const moved = heap[size]!;
    place(i, moved);
    siftDown(i);
    // Only an element that did not sink can need to rise (removal from the middle of the heap).
    if (pos[moved] === i) siftUp(i);
  }

  return {
    get size() {
      return size;
    },
    has(id) {
      return pos[id]! >= 0;
    },
    push(id) {
      if (pos[id]! >= 0) throw new Error(`block ${id} is already in the heap`);
      place(size, id);
      size++;
      siftUp(size - 1);
    },
    remove(id) {
      const i = pos[id]!;
      if (i >= 0) removeAt(i);
    },
    pop() {
      if (size === 0) return -1;
      const id = heap[0]!;
      removeAt(0);
      return id;
    },
    clear() {
      for (let i = 0; i < size; i++) pos[heap[i]!] = -1;
      size = 0;
    },
  };
}
