// The `transaction` option of Queue.add, Queue.addBulk and FlowProducer.add: split it off the
// options and route saves through the store's optional TransactionalStore capability.

import { type StoreInterface, supportsTransactions, type TransactionScope } from "@conveyor/shared";
import { checkKeys, checkObject } from "./_validate.ts";

/** The name a message gives a store: its class name, else "the store". */
function storeName(store: StoreInterface): string {
  const name = (store as { constructor?: { name?: unknown } }).constructor?.name;
  return typeof name === "string" && name !== "" && name !== "Object" ? name : "the store";
}

/**
 * The scope to save through for `transaction`, or `undefined` when no transaction was given.
 * @throws {TypeError} when the store cannot save inside a caller's transaction
 */
export function transactionScope(
  store: StoreInterface,
  transaction: unknown,
  context: string,
): TransactionScope | undefined {
  if (transaction === undefined) return undefined;
  if (!supportsTransactions(store)) {
    throw new TypeError(
      `${context}the transaction option needs a store that can save inside your transaction ` +
        `(a withTransaction(tx) method), and ${storeName(store)} has none`,
    );
  }
  const scope = store.withTransaction(transaction);
  if (typeof scope !== "object" || scope === null) {
    throw new TypeError(`${context}${storeName(store)}.withTransaction() returned no scope`);
  }
  return scope;
}

/** The `transaction` of the options argument of `addBulk` / `FlowProducer.add`. */
export function transactionOption(options: unknown, context: string): unknown {
  if (options === undefined) return undefined;
  checkObject(options, "options", context);
  checkKeys(options as object, ["transaction"], "option", context);
  return (options as { transaction?: unknown }).transaction;
}
