import assert from "node:assert/strict";
import {
  ConveyorError,
  isConveyorError,
  JobNotFoundError,
  LeaseLostError,
  UnrecoverableError,
} from "./errors.ts";

Deno.test("ConveyorError subclasses carry stable codes and names", () => {
  const err = new JobNotFoundError("emails", "42");
  assert.ok(err instanceof ConveyorError);
  assert.equal(err.code, "JOB_NOT_FOUND");
  assert.equal(err.name, "JobNotFoundError");
  assert.equal(err.message, 'Job "42" not found in queue "emails"');
  assert.match(new LeaseLostError("q", "7", "complete").message, /Cannot complete job "7"/);
});

Deno.test("isConveyorError matches by code across copies", () => {
  const foreign = Object.assign(new Error("x"), { code: "UNRECOVERABLE" });
  assert.ok(isConveyorError(foreign, "UNRECOVERABLE"));
  assert.ok(isConveyorError(new UnrecoverableError("no"), "UNRECOVERABLE"));
  assert.ok(!isConveyorError(new Error("plain")));
  assert.ok(!isConveyorError(null));
  assert.ok(!isConveyorError(foreign, "LEASE_LOST"));
});
