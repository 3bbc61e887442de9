import assert from "node:assert/strict";
import { BinaryHeap, heapStats } from "./_heap.ts";

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
