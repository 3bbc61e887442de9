import assert from "node:assert/strict";
import type { StoreEventListener } from "@conveyor/shared";
import { flush, newStore, withOverrides } from "./_test_util.ts";
import { Queue } from "./queue.ts";
import { Worker } from "./worker.ts";

/** A store that records its subscribe/unsubscribe calls. */
async function spyStore() {
  const store = await newStore();
  const calls: string[] = [];
  const spy = withOverrides(store, {
    subscribe: (queueName: string, listener: StoreEventListener) => {
      calls.push(`subscribe ${queueName}`);
      store.subscribe(queueName, listener);
    },
    unsubscribe: (queueName: string, listener?: StoreEventListener) => {
      calls.push(`unsubscribe ${queueName}`);
      store.unsubscribe(queueName, listener);
    },
  });
  return { store, spy, calls };
}

Deno.test("a queue follows its store's events only while queue.events has listeners", async () => {
  const { store, spy, calls } = await spyStore();
  const queue = new Queue("q", { store: spy });
  await queue.add("a", 1);
  queue.events.on("error", () => {});
  assert.deepEqual(calls, []);

  const seen: string[] = [];
  const off = queue.events.on("waiting", (event) => {
    seen.push(event.detail.jobId!);
  });
  assert.deepEqual(calls, ["subscribe q"]);
  const job = await queue.add("b", 2);
  await flush();
  assert.deepEqual(seen, [job.id]);

  off();
  assert.deepEqual(calls, ["subscribe q", "unsubscribe q"]);
  await queue.add("c", 3);
  await flush();
  assert.deepEqual(seen, [job.id]);

  queue.events.once("completed", () => {});
  assert.deepEqual(calls, ["subscribe q", "unsubscribe q", "subscribe q"]);
  await queue.close();
  assert.deepEqual(calls, ["subscribe q", "unsubscribe q", "subscribe q", "unsubscribe q"]);
  await store.disconnect();
});

Deno.test("a worker and a waiter keep the queue's subscription while they need it", async () => {
  const { store, spy, calls } = await spyStore();
  const queue = new Queue("q", { store: spy });
  const first = await queue.add("a", 1);
  assert.deepEqual(calls, []);

  const worker = new Worker("q", (job) => job.data * 2, { store: spy, concurrency: 1 });
  assert.deepEqual(calls, ["subscribe q"]);
  assert.equal(await first.waitUntilFinished(), 2);
  const second = await queue.add("b", 2);
  assert.equal(await second.waitUntilFinished(), 4);
  assert.deepEqual(calls, ["subscribe q"]);
  await worker.close();
  assert.deepEqual(calls, ["subscribe q", "unsubscribe q"]);

  // A waiter alone subscribes for the time it waits.
  const third = await queue.add("c", 3);
  const waiting = third.waitUntilFinished();
  assert.deepEqual(calls, ["subscribe q", "unsubscribe q", "subscribe q"]);
  const other = new Worker("q", (job) => job.data * 2, { store, concurrency: 1 });
  assert.equal(await waiting, 6);
  await flush();
  assert.deepEqual(calls, ["subscribe q", "unsubscribe q", "subscribe q", "unsubscribe q"]);
  await other.close();
  await queue.close();
  await store.disconnect();
});
