import assert from "node:assert/strict";
import { BinaryHeap, heapStats, RunHeap } from "./_heap.ts";

function drainAll(heap: BinaryHeap<number>): number[] {
  const out: number[] = [];
  for (let v = heap.pop(); v !== undefined; v = heap.pop()) out.push(v);
  return out;
}

Deno.test("BinaryHeap pops entries in ascending order", () => {
  const heap = new BinaryHeap<number>((a, b) => a < b);
  const values = Array.from({ length: 500 }, (_, i) => (i * 7919) % 1009);
  for (const v of values) heap.push(v);
  assert.equal(heap.size, 500);
  assert.deepEqual(drainAll(heap), [...values].sort((a, b) => a - b));
  assert.equal(heap.pop(), undefined);
  assert.equal(heap.peek(), undefined);
});

Deno.test("BinaryHeap peek returns the first entry without removing it", () => {
  const heap = new BinaryHeap<number>((a, b) => a < b);
  heap.push(3);
  heap.push(1);
  heap.push(2);
  assert.equal(heap.peek(), 1);
  assert.equal(heap.size, 3);
});

Deno.test("BinaryHeap rebuild keeps only the chosen entries, in order", () => {
  const heap = new BinaryHeap<number>((a, b) => a < b);
  for (let i = 100; i > 0; i--) heap.push(i);
  heap.rebuild((v) => v % 3 === 0);
  assert.equal(heap.size, 33);
  assert.deepEqual(drainAll(heap), Array.from({ length: 33 }, (_, i) => 3 * (i + 1)));
});

Deno.test("BinaryHeap clear empties the heap", () => {
  const heap = new BinaryHeap<number>((a, b) => a < b);
  heap.push(1);
  heap.clear();
  assert.equal(heap.size, 0);
  assert.deepEqual(heap.values(), []);
});

Deno.test("BinaryHeap push and pop cost O(log n) comparisons", () => {
  const heap = new BinaryHeap<number>((a, b) => a < b);
  for (let i = 0; i < 1 << 16; i++) heap.push((i * 40503) % 65536);
  const before = heapStats.compares;
  heap.push(-1);
  assert.equal(heap.pop(), -1);
  // log2(65536) = 16: one push climbs at most 16 levels, one pop compares twice per level.
  assert.ok(heapStats.compares - before <= 3 * 17, `${heapStats.compares - before} compares`);
});

Deno.test("RunHeap pops in order whatever the mix of in-order and out-of-order pushes", () => {
  let seed = 7;
  const rand = (n: number) => (seed = (seed * 1103515245 + 12345) % 2147483648) % n;
  const heap = new RunHeap<number>((a, b) => a < b);
  const ref: number[] = [];
  let next = 0;
  for (let step = 0; step < 20_000; step++) {
    const r = rand(10);
    if (r < 5) {
      // mostly increasing values (the run), sometimes an older one (the heap)
      const v = rand(4) === 0 ? rand(next + 1) : next++;
      heap.push(v);
      ref.push(v);
    } else if (r < 9 || ref.length > 3000) {
      ref.sort((a, b) => a - b);
      assert.equal(heap.peek(), ref[0]);
      assert.equal(heap.pop(), ref.shift());
    }
    assert.equal(heap.size, ref.length);
    if (step % 5000 === 0) {
      assert.deepEqual([...heap.values()].sort((a, b) => a - b), [...ref].sort((a, b) => a - b));
      heap.rebuild((v) => v % 3 !== 0);
      for (let i = ref.length - 1; i >= 0; i--) if (ref[i] % 3 === 0) ref.splice(i, 1);
    }
  }
  ref.sort((a, b) => a - b);
  assert.deepEqual(drainRun(heap), ref);
  heap.push(1);
  heap.clear();
  assert.equal(heap.pop(), undefined);
});

function drainRun(heap: RunHeap<number>): number[] {
  const out: number[] = [];
  for (let v = heap.pop(); v !== undefined; v = heap.pop()) out.push(v);
  return out;
}
