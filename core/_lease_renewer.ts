// Renews the leases of a worker's running and prefetched jobs: one timer for the whole worker,
// armed only while it holds jobs, instead of one timer per job.

import type { JobData, StoreInterface } from "@conveyor/shared";
import type { Entry } from "./_running.ts";

export class LeaseRenewer {
  readonly #store: StoreInterface;
  readonly #queueName: string;
  readonly #lockDuration: number;
  readonly #interval: number;
  readonly #active: ReadonlyMap<string, Entry>;
  readonly #held: () => readonly JobData[];
  readonly #onLost: (entry: Entry) => void;
  readonly #onHeldLost: (data: JobData) => void;
  readonly #onError: (error: unknown, jobId: string) => void;
  readonly #track: (work: Promise<unknown>) => void;
  #timer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    store: StoreInterface,
    queueName: string,
    lockDuration: number,
    interval: number,
    active: ReadonlyMap<string, Entry>,
    held: () => readonly JobData[],
    onLost: (entry: Entry) => void,
    onError: (error: unknown, jobId: string) => void,
    track: (work: Promise<unknown>) => void,
    onHeldLost: (data: JobData) => void,
  ) {
    this.#store = store;
    this.#queueName = queueName;
    this.#lockDuration = lockDuration;
    this.#interval = interval;
    this.#active = active;
    this.#held = held;
    this.#onLost = onLost;
    this.#onHeldLost = onHeldLost;
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
    const held = this.#held();
    // Idle: the next job start (or prefetch) arms the timer again.
    if (this.#active.size === 0 && held.length === 0) return;
    for (const entry of this.#active.values()) {
      if (entry.finishing || entry.lost || entry.unit.released) continue;
      this.#extend(entry.data.id, entry.lockToken, () => {
        if (!entry.finishing && !entry.unit.released && !entry.lost) this.#onLost(entry);
      });
    }
    for (const data of held) this.#extend(data.id, data.lockToken!, () => this.#onHeldLost(data));
    this.ensure();
  };

  /** Extend one lease; `lost` runs when the store says it is gone. */
  #extend(id: string, token: string, lost: () => void): void {
    this.#track(
      this.#store.extendLock(this.#queueName, id, token, this.#lockDuration).then(
        (ok) => {
          if (!ok) lost();
        },
        (error) => this.#onError(error, id),
      ),
    );
  }
}
