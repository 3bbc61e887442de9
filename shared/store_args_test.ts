import assert from "node:assert/strict";
import {
  checkEvent,
  checkFailure,
  checkFetchOptions,
  checkId,
  checkInt,
  checkMs,
  checkNewJobId,
  checkNewJobName,
  checkNewJobRef,
  checkParentLink,
  checkPendingChildren,
  checkState,
  checkToken,
  checkUpdate,
  describeValue,
  saveJobContext,
} from "./store_args.ts";

function error(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    return `${(e as Error).name}: ${(e as Error).message}`;
  }
  throw new Error("did not throw");
}

Deno.test("describeValue prints values for messages", () => {
  const cyclic: Record<string, unknown> = {};
  cyclic.self = cyclic;
  assert.equal(describeValue("x"), '"x"');
  assert.equal(describeValue(5n), "5n");
  assert.equal(describeValue(() => 1), "a function");
  assert.equal(describeValue(Symbol("s")), "Symbol(s)");
  assert.equal(describeValue(undefined), "undefined");
  assert.equal(describeValue(null), "null");
  assert.equal(describeValue({ a: [1] }), '{"a":[1]}');
  assert.equal(describeValue(cyclic), "[object Object]");
});

Deno.test("checkId, checkToken, checkInt and checkMs name the field and value", () => {
  assert.equal(checkId("j1", "jobId"), "j1");
  assert.equal(error(() => checkId(1, "jobId")), "TypeError: jobId must be a string, got 1");
  assert.equal(error(() => checkId("", "jobId")), "RangeError: jobId must not be empty");
  assert.equal(
    error(() => checkId("x".repeat(256), "jobId")),
    "RangeError: jobId must be at most 255 characters, got 256",
  );
  assert.equal(checkToken("t".repeat(1000), "token").length, 1000);
  assert.equal(checkToken("", "line", true), "");
  assert.equal(error(() => checkToken("", "token")), "RangeError: token must not be empty");
  assert.equal(
    error(() => checkToken(null, "token")),
    "TypeError: token must be a string, got null",
  );
  assert.equal(checkInt(2 ** 60, "limit", 1), 2 ** 60);
  assert.equal(
    error(() => checkInt(1.5, "limit", 1)),
    "TypeError: limit must be an integer, got 1.5",
  );
  assert.equal(error(() => checkInt(0, "limit", 1)), "RangeError: limit must be >= 1, got 0");
  assert.equal(
    error(() => checkInt(11, "n", 1, 10)),
    "RangeError: n must be between 1 and 10, got 11",
  );
  assert.equal(
    error(() => checkMs(NaN, "delay")),
    "TypeError: delay must be a finite number of ms, got NaN",
  );
  assert.equal(error(() => checkMs(0, "ttl", 1)), "RangeError: ttl must be >= 1, got 0");
});

Deno.test("checkState accepts job states, and undefined only when optional", () => {
  assert.equal(checkState("active", false), "active");
  assert.equal(checkState(undefined, true), undefined);
  assert.match(error(() => checkState(undefined, false)), /^RangeError: state must be one of "/);
  assert.match(error(() => checkState("nope", true)), /, got "nope"$/);
});

Deno.test("new job fields are checked with the job named", () => {
  assert.equal(saveJobContext("j1"), 'Cannot save job "j1": ');
  assert.equal(checkNewJobId({ id: "j1" }, "saveJob"), "j1");
  assert.equal(
    error(() => checkNewJobId([], "saveBulk[2]")),
    "TypeError: saveBulk[2]: job must be an object, got []",
  );
  assert.equal(
    error(() => checkNewJobId({ id: "" }, "saveJob")),
    "RangeError: saveJob: job id must not be empty",
  );
  assert.equal(checkNewJobName("send", "j1"), "send");
  assert.equal(
    error(() => checkNewJobName("*", "j1")),
    'RangeError: Cannot save job "j1": job name must not be "*" (it means every name)',
  );
  assert.equal(checkNewJobRef(undefined, "j1", "parentId"), null);
  assert.equal(checkNewJobRef(null, "j1", "parentId"), null);
  assert.equal(checkNewJobRef("p", "j1", "parentId"), "p");
  assert.equal(
    error(() => checkNewJobRef(5, "j1", "deduplicationKey")),
    'TypeError: Cannot save job "j1": deduplicationKey must be a string, got 5',
  );
  checkParentLink("p", "q", "j1");
  checkParentLink(undefined, null, "j1");
  assert.equal(
    error(() => checkParentLink(null, "q", "j1")),
    'TypeError: Cannot save job "j1": parentQueueName is set but parentId is not',
  );
  assert.equal(checkPendingChildren(undefined, "j1"), 0);
  assert.equal(
    error(() => checkPendingChildren(-1, "j1")),
    'RangeError: Cannot save job "j1": pendingChildrenCount must be >= 0, got -1',
  );
});

Deno.test("checkFetchOptions copies the limits given", () => {
  assert.deepEqual(checkFetchOptions(undefined), {});
  assert.deepEqual(
    checkFetchOptions({ groupConcurrency: 2, rateLimit: { max: 5, duration: 1000 }, x: 1 }),
    { groupConcurrency: 2, rateLimit: { max: 5, duration: 1000 } },
  );
  assert.equal(
    error(() => checkFetchOptions(null)),
    "TypeError: fetch options must be an object, got null",
  );
  assert.equal(
    error(() => checkFetchOptions({ rateLimit: 5 })),
    "TypeError: rateLimit must be { max, duration }, got 5",
  );
  assert.equal(
    error(() => checkFetchOptions({ maxGlobalConcurrency: 0 })),
    "RangeError: maxGlobalConcurrency must be >= 1, got 0",
  );
});

Deno.test("checkFailure checks the reason, stack trace and retry delay", () => {
  const f = { failedReason: "boom", stacktrace: null, retryDelay: null };
  assert.equal(checkFailure(f), f);
  assert.equal(
    error(() => checkFailure({ failedReason: 1, retryDelay: null })),
    "TypeError: failure.failedReason must be a string, got 1",
  );
  assert.equal(
    error(() => checkFailure({ failedReason: "x", stacktrace: [], retryDelay: null })),
    "TypeError: failure.stacktrace must be a string or null, got []",
  );
  assert.equal(
    error(() => checkFailure({ failedReason: "x", retryDelay: -1 })),
    "RangeError: failure.retryDelay must be >= 0, got -1",
  );
});

Deno.test("checkUpdate checks the shape and hands each JSON value to keep", () => {
  const kept: string[] = [];
  const keep = (value: unknown, what: string) => {
    kept.push(what);
    return JSON.stringify(value);
  };
  assert.deepEqual(checkUpdate({ data: { a: 1 }, progress: 50 }, keep), {
    data: '{"a":1}',
    progress: "50",
  });
  assert.deepEqual(kept, ["update.data", "update.progress"]);
  assert.deepEqual(checkUpdate({}, keep), {});
  assert.equal(
    error(() => checkUpdate([], keep)),
    "TypeError: update must be { data?, progress? }, got []",
  );
  assert.equal(
    error(() => checkUpdate({ progress: Infinity }, keep)),
    "TypeError: update.progress must be finite, got Infinity",
  );
  assert.equal(
    error(() => checkUpdate({ progress: "half" }, keep)),
    'TypeError: update.progress must be a number or an object, got "half"',
  );
});

Deno.test("checkEvent checks the queue name and the event type", () => {
  const e = { type: "drained", queueName: "q" };
  assert.equal(checkEvent(e), e);
  assert.equal(error(() => checkEvent(null)), "TypeError: event must be an object, got null");
  assert.equal(
    error(() => checkEvent({ type: "added", queueName: "q" })),
    'RangeError: event type "added" is not a store event type',
  );
  assert.match(error(() => checkEvent({ type: "drained", queueName: "" })), /queue name/);
});
