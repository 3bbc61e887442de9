/**
 * The {@linkcode FlowProducer} class: adds trees of jobs where a parent waits for its children.
 *
 * @module
 */

import {
  createNewJob,
  FlowError,
  type FlowJobRecord,
  type JobData,
  type JobOptions,
  StoreClosedError,
  type StoreInterface,
  validateJobName,
  validateQueueName,
} from "@conveyor/shared";
import { localJobData } from "./_job_data.ts";
import { transactionOption, transactionScope } from "./_transaction.ts";
import { checkKeys, checkObject, checkStore, describe } from "./_validate.ts";
import { Job } from "./job.ts";
import type { AddJobOptions, TransactionOptions } from "./queue.ts";

/** One node of a flow: a job, and the children that must finish before it runs. */
export interface FlowJob<T = unknown> {
  /** Job name. */
  name: string;
  /** Queue the job goes to (any queue of the same store). */
  queueName: string;
  /** Payload (a JSON value). */
  data: T;
  /** Job options; on a parent, `failParentOnChildFailure` sets what a failed child does. */
  opts?: AddJobOptions;
  /** Jobs that must finish before this one becomes waiting. */
  children?: FlowJob[];
}

/** What {@linkcode FlowProducer.add} saved: the job, and the results of its children. */
// deno-lint-ignore no-explicit-any
export interface FlowResult<T = any, R = any> {
  /** The job (for a duplicate root, the existing job with `isDuplicate` set). */
  job: Job<T, R>;
  /** Results of the children, in input order (absent for a leaf or a duplicate root). */
  children?: FlowResult[];
}

/** Options of a {@linkcode FlowProducer}. */
export interface FlowProducerOptions {
  /** Where the jobs are kept; every queue of the flow lives in this store. */
  store: StoreInterface;
}

interface Node {
  flow: FlowJob;
  path: string;
  parent: Node | null;
  children: Node[];
  index: number;
}

const FLOW_KEYS = ["name", "queueName", "data", "opts", "children"];

/**
 * Adds flows: trees of jobs, across queues of one store, saved all-or-nothing. A parent starts in
 * `waiting-children` and becomes `waiting` when its last direct child completes; a failed child
 * acts on its parent as the parent's `failParentOnChildFailure` says (`fail`, `ignore`, `remove`).
 *
 * @example
 * ```ts
 * import { FlowProducer } from "@conveyor/core";
 * import { MemoryStore } from "@conveyor/store-memory";
 * const store = new MemoryStore();
 * await store.connect();
 * const flow = new FlowProducer({ store });
 * const result = await flow.add({
 *   name: "assemble-report",
 *   queueName: "reports",
 *   data: { reportId: 42 },
 *   children: [
 *     { name: "fetch-sales", queueName: "reports", data: { source: "sales" } },
 *     { name: "fetch-inventory", queueName: "reports", data: { source: "inv" } },
 *   ],
 * });
 * console.log(result.job.state, result.children![0].job.state); // "waiting-children" "waiting"
 * await store.disconnect();
 * ```
 */
export class FlowProducer {
  /** The store flows are saved to. */
  readonly store: StoreInterface;
  #closed = false;

  /**
   * Create a flow producer.
   * @param options the store
   */
  constructor(options: FlowProducerOptions) {
    const context = "Cannot create flow producer: ";
    checkObject(options, "options", context);
    checkKeys(options, ["store"], "option", context);
    this.store = checkStore(options.store, context);
  }

  /**
   * Validate a whole tree, then save it in one atomic store call: children before parents, ids
   * assigned up front, each parent waiting for its direct children.
   *
   * When the root is a duplicate (its `jobId` or deduplication key is held), nothing is saved and
   * the result holds the existing root job with `isDuplicate` set.
   *
   * With `options.transaction`, the tree is saved inside your own database transaction and
   * exists (and wakes workers) only if that transaction commits; see
   * {@linkcode TransactionOptions}.
   *
   * @param flow the root of the tree
   * @param options `transaction`: your open database transaction
   * @returns the saved jobs, mirroring the tree
   * @throws {TypeError | RangeError} for a bad name, option or payload (naming its place); a
   *   `TypeError` when `transaction` is given and the store cannot save inside it
   * @throws {FlowError} for an invalid tree (a job id twice, a cycle); nothing is saved
   *
   * @example Add a flow inside your own PostgreSQL transaction
   * ```ts ignore
   * import postgres from "postgres";
   * import { FlowProducer } from "@conveyor/core";
   * import { PgStore } from "@conveyor/store-pg";
   * const sql = postgres("postgres://postgres@127.0.0.1:5432/test");
   * const store = new PgStore({ connection: sql });
   * await store.connect();
   * const flow = new FlowProducer({ store });
   * await sql.begin(async (tx) => {
   *   await tx`update reports set status = 'queued' where id = ${42}`;
   *   await flow.add({
   *     name: "assemble",
   *     queueName: "reports",
   *     data: { reportId: 42 },
   *     children: [{ name: "fetch", queueName: "reports", data: { source: "sales" } }],
   *   }, { transaction: tx });
   * });
   * ```
   */
  // deno-lint-ignore no-explicit-any
  async add<T = any, R = any>(
    flow: FlowJob<T>,
    options?: TransactionOptions,
  ): Promise<FlowResult<T, R>> {
    if (this.#closed) throw new StoreClosedError("FlowProducer");
    const context = "Cannot add flow: ";
    const scope = transactionScope(this.store, transactionOption(options, context), context);
    const nodes = this.#flatten(flow as FlowJob);
    const records = await Promise.all(nodes.map(async (node): Promise<FlowJobRecord> => {
      const job = await createNewJob(node.flow.name, node.flow.data, node.flow.opts);
      return { ...job, queueName: node.flow.queueName };
    }));
    const seen = new Map<string, Node>();
    for (const node of nodes) {
      const record = records[node.index];
      const key = `${record.queueName}\u0000${record.id}`;
      const other = seen.get(key);
      if (other) {
        throw new FlowError(
          `Cannot add flow: job id "${record.id}" in queue "${record.queueName}" is used by both ${other.path} and ${node.path}`,
        );
      }
      seen.set(key, node);
    }
    for (const node of nodes) {
      const record = records[node.index];
      if (node.children.length > 0) record.pendingChildrenCount = node.children.length;
      if (node.parent) {
        const parent = records[node.parent.index];
        record.parentId = parent.id;
        record.parentQueueName = parent.queueName;
      }
    }
    const results = await (scope ?? this.store).saveFlow(records);
    const root = nodes[nodes.length - 1];
    const rootResult = results[root.index];
    if (rootResult.duplicate) {
      const existing = scope?.getJob
        ? await scope.getJob(flow.queueName, rootResult.id)
        : await this.store.getJob(flow.queueName, rootResult.id);
      const data = existing ??
        { ...localJobData(flow.queueName, records[root.index], Date.now()), id: rootResult.id };
      return { job: new Job(this.store, data as JobData<T, R>, true) };
    }
    const now = Date.now();
    const build = (node: Node): FlowResult => {
      const record = records[node.index];
      const result: FlowResult = {
        job: new Job(this.store, localJobData(record.queueName, record, now)),
      };
      if (node.children.length > 0) result.children = node.children.map(build);
      return result;
    };
    return build(root) as FlowResult<T, R>;
  }

  /** Refuse further adds (a FlowProducer holds no other resources). */
  close(): Promise<void> {
    this.#closed = true;
    return Promise.resolve();
  }

  /** Check the tree's shape and names; list its nodes children first (depth-first, post-order). */
  #flatten(root: FlowJob): Node[] {
    const out: Node[] = [];
    const ancestors = new Set<object>();
    const visit = (flow: unknown, path: string, parent: Node | null): Node => {
      const context = `Cannot add flow: ${path}: `;
      checkObject(flow, "job", context);
      if (ancestors.has(flow as object)) {
        throw new FlowError(`Cannot add flow: ${path} contains itself (the tree has a cycle)`);
      }
      const f = flow as FlowJob;
      checkKeys(f, FLOW_KEYS, "field", context);
      validateJobName(f.name, context);
      try {
        validateQueueName(f.queueName);
      } catch (error) {
        const Ctor = error instanceof RangeError ? RangeError : TypeError;
        throw new Ctor(`${context}${(error as Error).message}`);
      }
      if (f.opts !== undefined && (f.opts as JobOptions).repeat !== undefined) {
        throw new TypeError(`${context}repeat cannot be used in a flow`);
      }
      if (f.children !== undefined && !Array.isArray(f.children)) {
        throw new TypeError(`${context}children must be an array, got ${describe(f.children)}`);
      }
      const node: Node = { flow: f, path, parent, children: [], index: -1 };
      ancestors.add(f);
      f.children?.forEach((child, i) => {
        node.children.push(visit(child, `${path}.children[${i}]`, node));
      });
      ancestors.delete(f);
      node.index = out.length;
      out.push(node);
      return node;
    };
    visit(root, "flow", null);
    return out;
  }
}
