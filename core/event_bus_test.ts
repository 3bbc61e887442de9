import assert from "node:assert/strict";
import { EventBus } from "./event_bus.ts";

type Events = {
  ping: { n: number };
  error: { error: Error };
};

Deno.test("EventBus delivers the typed detail to its listeners", () => {
  const bus = new EventBus<Events>();
  const seen: number[] = [];
  bus.on("ping", (event) => {
    seen.push(event.detail.n);
  });
  bus.emit("ping", { n: 1 });
  bus.emit("ping", { n: 2 });
  assert.deepEqual(seen, [1, 2]);
});

Deno.test("EventBus.on returns a function that removes the listener", () => {
  const bus = new EventBus<Events>();
  let calls = 0;
  const off = bus.on("ping", () => {
    calls++;
  });
  bus.emit("ping", { n: 1 });
  off();
  bus.emit("ping", { n: 2 });
  assert.equal(calls, 1);
  assert.equal(bus.hasListeners("ping"), false);
});

Deno.test("EventBus.off removes a listener", () => {
  const bus = new EventBus<Events>();
  let calls = 0;
  const listener = () => {
    calls++;
  };
  bus.on("ping", listener);
  bus.off("ping", listener);
  bus.emit("ping", { n: 1 });
  assert.equal(calls, 0);
});

Deno.test("EventBus.once runs a listener for the next event only", () => {
  const bus = new EventBus<Events>();
  const seen: number[] = [];
  bus.once("ping", (event) => {
    seen.push(event.detail.n);
  });
  bus.emit("ping", { n: 1 });
  bus.emit("ping", { n: 2 });
  assert.deepEqual(seen, [1]);
  assert.equal(bus.listenerCount("ping"), 0);
});

Deno.test("EventBus reports a throwing listener as an error event and keeps delivering", () => {
  const bus = new EventBus<Events>();
  const errors: string[] = [];
  let after = 0;
  bus.on("error", (event) => {
    errors.push(event.detail.error.message);
  });
  bus.on("ping", () => {
    throw new Error("listener broke");
  });
  bus.on("ping", () => {
    after++;
  });
  bus.emit("ping", { n: 1 });
  assert.deepEqual(errors, ["listener broke"]);
  assert.equal(after, 1);
});

Deno.test("EventBus reports a rejected async listener as an error event", async () => {
  const bus = new EventBus<Events>();
  const errors: string[] = [];
  bus.on("error", (event) => {
    errors.push(event.detail.error.message);
  });
  bus.on("ping", async () => {
    await Promise.resolve();
    throw new Error("async listener broke");
  });
  bus.emit("ping", { n: 1 });
  await new Promise((resolve) => setTimeout(resolve, 0));
  assert.deepEqual(errors, ["async listener broke"]);
});

Deno.test("EventBus swallows errors thrown by error listeners", () => {
  const bus = new EventBus<Events>();
  bus.on("error", () => {
    throw new Error("error listener broke");
  });
  bus.on("ping", () => {
    throw new Error("listener broke");
  });
  bus.emit("ping", { n: 1 }); // does not throw
});

Deno.test("EventBus passes listener errors to its handler when given one", () => {
  const seen: string[] = [];
  const bus = new EventBus<Events>((error, type) => seen.push(`${type}: ${error.message}`));
  bus.on("ping", () => {
    throw "not an Error";
  });
  bus.emit("ping", { n: 1 });
  assert.deepEqual(seen, ["ping: not an Error"]);
});

Deno.test("EventBus ignores a listener added twice and validates arguments", () => {
  const bus = new EventBus<Events>();
  let calls = 0;
  const listener = () => {
    calls++;
  };
  bus.on("ping", listener);
  bus.on("ping", listener);
  bus.emit("ping", { n: 1 });
  assert.equal(calls, 1);
  assert.throws(
    () => bus.on("ping", "nope" as never),
    { name: "TypeError", message: 'EventBus: listener of "ping" must be a function' },
  );
  bus.removeAllListeners();
  assert.equal(bus.hasListeners("ping"), false);
});
