/**
 * `@conveyor/shared`: the job model, the {@linkcode StoreInterface} contract, errors and the pure
 * helpers that Conveyor's core and stores share. No I/O.
 *
 * @example Validating a job before handing it to a store
 * ```ts
 * import { createNewJob, STORE_CONTRACT_VERSION } from "@conveyor/shared";
 * const job = await createNewJob("send-email", { to: "a@example.com" }, { attempts: 3 });
 * console.log(job.name, STORE_CONTRACT_VERSION);
 * ```
 *
 * @module
 */

export * from "./types.ts";
export * from "./store_interface.ts";
export * from "./errors.ts";
export * from "./validation.ts";
export * from "./store_args.ts";
export * from "./flow_shape.ts";
export * from "./duration.ts";
export * from "./backoff.ts";
export * from "./hash.ts";
export * from "./id.ts";
