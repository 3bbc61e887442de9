/**
 * The ceiling for pure JavaScript: an array queue and `concurrency` async loops awaiting the same
 * handler as every other system. No store, no events, no validation.
 *
 * @module
 */

import process from "node:process";
import { main } from "../lib/child.ts";
import type { Adapter, Handler, Payload } from "../lib/types.ts";

interface Entry {
  data: Payload;
  parent?: Entry;
  pending: number;
}

/** An in-process queue with the least work a queue can do. */
export function bareAdapter(): Adapter {
  let ready: Entry[] = [];
  let head = 0;
  let total = 0;
  let completed = 0;
  let running = false;
  let loops: Promise<void>[] = [];
  const idle: (() => void)[] = [];

  const wake = (count: number) => {
    while (count-- > 0 && idle.length) idle.pop()!();
  };
  const push = (e: Entry) => {
    ready.push(e);
    wake(1);
  };
  const take = (): Entry | undefined => {
    if (head === ready.length) return undefined;
    const e = ready[head++];
    if (head > 4096 && head * 2 > ready.length) {
      ready = ready.slice(head);
      head = 0;
    }
    return e;
  };
  const loop = async (handler: Handler) => {
    while (running) {
      const e = take();
      if (!e) {
        await new Promise<void>((r) => idle.push(r));
        continue;
      }
      await handler(e.data);
      completed++;
      if (e.parent && --e.parent.pending === 0) push(e.parent);
    }
  };

  return {
    inProcessOnly: true,
    settings: { queue: "array + async loops" },
    async open() {},
    add(data) {
      total++;
      push({ data, pending: 0 });
      return Promise.resolve();
    },
    addBulk(items) {
      total += items.length;
      for (const data of items) ready.push({ data, pending: 0 });
      wake(items.length);
      return Promise.resolve();
    },
    addFlow(data, children) {
      const parent: Entry = { data, pending: children.length };
      total += children.length + 1;
      for (const c of children) ready.push({ data: c, parent, pending: 0 });
      wake(children.length);
      return Promise.resolve();
    },
    startWorker(handler, concurrency) {
      running = true;
      loops = Array.from({ length: concurrency }, () => loop(handler));
      return Promise.resolve();
    },
    async stopWorker() {
      running = false;
      wake(idle.length);
      await Promise.all(loops);
    },
    remaining: () => Promise.resolve(total - completed),
    close: () => Promise.resolve(),
  };
}

if (import.meta.main) await main(bareAdapter, { deno: process.versions.deno ?? "?" });
