// Renews the leases of a worker's running jobs: one timer for the whole worker, armed only
// while jobs run, instead of one timer per job.

import type { StoreInterface } from "@conveyor/shared";
import type { Entry } from "./_running.ts";

export class LeaseRenewer {
  readonly #store: StoreInterface;
  readonly #queueName: string;
  readonly #lockDuration: number;
  readonly #interval: number;
  readonly #active: ReadonlyMap<string, Entry>;
  readonly #onLost: (entry: Entry) => void;
  readonly #onError: (error: unknown, jobId: string) => void;
  readonly #track: (work: Promise<unknown>) => void;
  #timer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    store: StoreInterface,
    queueName: string,
    lockDuration: number,
    interval: number,
    active: ReadonlyMap<string, Entry>,
    onLost: (entry: Entry) => void,
    onError: (error: unknown, jobId: string) => void,
    track: (work: Promise<unknown>) => void,
  ) {
    this.#store = store;
    this.#queueName = queueName;
    this.#lockDuration = lockDuration;
    this.#interval = interval;
    this.#active = active;
    this.#onLost = onLost;
    this.#onError = onError;
    this.#track = track;
  }

  /** Make sure the timer runs (called when a job starts). */
  ensure(): void {
    if (this.#timer === undefined) this.#timer = setTimeout(this.#renew, this.#interval);
  }

  stop(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #renew = (): void => {
    this.#timer = undefined;
    if (this.#active.size === 0) return; // idle: the next job start arms the timer again
    for (const entry of this.#active.values()) {
      if (entry.finishing || entry.lost || entry.unit.released) continue;
      const { id } = entry.data;
      this.#track(
        this.#store.extendLock(this.#queueName, id, entry.lockToken, this.#lockDuration).then(
          (ok) => {
            if (!ok && !entry.finishing && !entry.unit.released && !entry.lost) this.#onLost(entry);
          },
          (error) => this.#onError(error, id),
        ),
      );
    }
    this.ensure();
  };
}
