/**
 * A binary min-heap over an array, used by the memory store for its waiting and delayed indexes.
 *
 * Entries are never removed from the middle: callers mark them stale and skip them when they
 * reach the top (lazy deletion), and call {@linkcode BinaryHeap.rebuild} when stale entries pile up.
 *
 * @module
 */

/**
 * Work done by every heap, for tests that prove a fetch does not scan: each comparison of two
 * entries adds one to `compares`.
 */
export const heapStats: { compares: number } = { compares: 0 };

/** A binary min-heap ordered by `less`. */
export class BinaryHeap<T> {
  #items: T[] = [];
  #less: (a: T, b: T) => boolean;

  /**
   * Create an empty heap.
   * @param less `true` when `a` must come out before `b`
   */
  constructor(less: (a: T, b: T) => boolean) {
    this.#less = less;
  }

  /** Number of entries, stale ones included. */
  get size(): number {
    return this.#items.length;
  }

  /** The first entry, or `undefined` when empty. */
  peek(): T | undefined {
    return this.#items[0];
  }

  /** Add an entry: O(log n). */
  push(item: T): void {
    const items = this.#items;
    items.push(item);
    this.#up(items.length - 1);
  }

  /** Remove and return the first entry: O(log n). */
  pop(): T | undefined {
    const items = this.#items;
    if (items.length === 0) return undefined;
    const top = items[0];
    const last = items.pop() as T;
    if (items.length > 0) {
      items[0] = last;
      this.#down(0);
    }
    return top;
  }

  /** Every entry, in no particular order. The array must not be changed. */
  values(): readonly T[] {
    return this.#items;
  }

  /** Remove every entry. */
  clear(): void {
    this.#items = [];
  }

  /** Keep only the entries for which `keep` is true, and restore heap order: O(n). */
  rebuild(keep: (item: T) => boolean): void {
    this.#items = this.#items.filter(keep);
    for (let i = (this.#items.length >> 1) - 1; i >= 0; i--) this.#down(i);
  }

  #cmp(a: T, b: T): boolean {
    heapStats.compares++;
    return this.#less(a, b);
  }

  #up(i: number): void {
    const items = this.#items;
    const item = items[i];
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.#cmp(item, items[parent])) break;
      items[i] = items[parent];
      i = parent;
    }
    items[i] = item;
  }

  #down(i: number): void {
    const items = this.#items;
    const n = items.length;
    const item = items[i];
    for (;;) {
      const left = 2 * i + 1;
      if (left >= n) break;
      const right = left + 1;
      const child = right < n && this.#cmp(items[right], items[left]) ? right : left;
      if (!this.#cmp(items[child], item)) break;
      items[i] = items[child];
      i = child;
    }
    items[i] = item;
  }
}

/**
 * A {@linkcode BinaryHeap} with a sorted run in front. An entry pushed in order (not less than the
 * last entry of the run) is appended to the run in O(1) and leaves it in O(1); any other entry
 * goes to the heap. FIFO jobs of one priority, the common case, never touch the heap.
 */
export class RunHeap<T> {
  #run: T[] = [];
  #head = 0;
  #heap: BinaryHeap<T>;
  #less: (a: T, b: T) => boolean;

  /**
   * Create an empty heap.
   * @param less `true` when `a` must come out before `b`
   */
  constructor(less: (a: T, b: T) => boolean) {
    this.#less = less;
    this.#heap = new BinaryHeap<T>(less);
  }

  /** Number of entries, stale ones included. */
  get size(): number {
    return this.#run.length - this.#head + this.#heap.size;
  }

  #cmp(a: T, b: T): boolean {
    heapStats.compares++;
    return this.#less(a, b);
  }

  /** Whether the first entry is the run's (else the heap's, or there is none). */
  #fromRun(): boolean {
    if (this.#head === this.#run.length) return false;
    const top = this.#heap.peek();
    return top === undefined || !this.#cmp(top, this.#run[this.#head]);
  }

  /** The first entry, or `undefined` when empty. */
  peek(): T | undefined {
    return this.#fromRun() ? this.#run[this.#head] : this.#heap.peek();
  }

  /** Add an entry: O(1) when in order, else O(log n). */
  push(item: T): void {
    const run = this.#run;
    if (this.#head === run.length) {
      if (this.#head > 0) {
        this.#run = [item];
        this.#head = 0;
      } else run.push(item);
    } else if (!this.#cmp(item, run[run.length - 1])) run.push(item);
    else this.#heap.push(item);
  }

  /** Remove and return the first entry. */
  pop(): T | undefined {
    if (!this.#fromRun()) return this.#heap.pop();
    const run = this.#run;
    const top = run[this.#head];
    run[this.#head++] = undefined as T; // let it be collected
    if (this.#head === run.length) {
      this.#run = [];
      this.#head = 0;
    } else if (this.#head >= 1024 && this.#head * 2 >= run.length) {
      this.#run = run.slice(this.#head);
      this.#head = 0;
    }
    return top;
  }

  /** Every entry, in no particular order (a new array). */
  values(): readonly T[] {
    return this.#run.slice(this.#head).concat(this.#heap.values());
  }

  /** Remove every entry. */
  clear(): void {
    this.#run = [];
    this.#head = 0;
    this.#heap.clear();
  }

  /** Keep only the entries for which `keep` is true: O(n). */
  rebuild(keep: (item: T) => boolean): void {
    this.#run = this.#run.slice(this.#head).filter(keep);
    this.#head = 0;
    this.#heap.rebuild(keep);
  }
}
