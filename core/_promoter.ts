// Moves due delayed jobs of one queue to waiting: one timer per (store, queue) in this process,
// armed for the earliest delayed job, instead of every worker polling.

import type { StoreInterface } from "@conveyor/shared";

/** Longest a timer may wait in one go (setTimeout's limit is 2^31 - 1 ms). */
const MAX_TIMER = 2_147_483_647;
/** Upper bound of the back-off used when the store says a job is due but promotes nothing. */
const MAX_BACKOFF = 1000;
/** Delay before trying again after a store error. */
const ERROR_RETRY = 1000;

export class DelayedPromoter {
  readonly #store: StoreInterface;
  readonly #queueName: string;
  readonly #onPromoted: (count: number) => void;
  readonly #onError: (error: unknown) => void;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #timerAt = Infinity;
  #running = false;
  #refreshing = false;
  #refreshAgain = false;
  #firing = false;
  #backoff = 0;

  constructor(
    store: StoreInterface,
    queueName: string,
    onPromoted: (count: number) => void,
    onError: (error: unknown) => void,
  ) {
    this.#store = store;
    this.#queueName = queueName;
    this.#onPromoted = onPromoted;
    this.#onError = onError;
  }

  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.refresh();
  }

  stop(): void {
    this.#running = false;
    this.#clear();
  }

  /** A delayed job is due at `at` (ms, local clock): make sure the timer fires by then. */
  schedule(at: number): void {
    if (!this.#running || at >= this.#timerAt) return;
    this.#clear();
    this.#timerAt = at;
    const wait = Math.min(Math.max(0, at - Date.now()), MAX_TIMER);
    this.#timer = setTimeout(this.#fire, wait);
  }

  /** Ask the store for the earliest delayed job and arm the timer for it (coalesced). */
  refresh(): void {
    if (!this.#running) return;
    if (this.#refreshing || this.#firing) {
      this.#refreshAgain = true;
      return;
    }
    this.#refreshing = true;
    this.#store.getNextDelayedTimestamp(this.#queueName).then(
      (at) => {
        this.#refreshing = false;
        if (this.#refreshAgain) {
          this.#refreshAgain = false;
          this.refresh();
        } else if (at !== null) this.schedule(at);
      },
      (error) => {
        this.#refreshing = false;
        this.#refreshAgain = false;
        this.#onError(error);
        this.schedule(Date.now() + ERROR_RETRY);
      },
    );
  }

  #clear(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#timerAt = Infinity;
  }

  #fire = async (): Promise<void> => {
    this.#timer = undefined;
    this.#timerAt = Infinity;
    if (!this.#running) return;
    this.#firing = true;
    let next: number | null;
    let promoted: number;
    try {
      promoted = await this.#store.promoteDelayedJobs(this.#queueName);
      if (promoted > 0) this.#onPromoted(promoted);
      next = await this.#store.getNextDelayedTimestamp(this.#queueName);
    } catch (error) {
      this.#firing = false;
      this.#refreshAgain = false;
      if (this.#running) this.#onError(error);
      this.schedule(Date.now() + ERROR_RETRY);
      return;
    }
    this.#firing = false;
    this.#refreshAgain = false;
    if (next === null) return;
    const now = Date.now();
    if (promoted === 0 && next <= now) {
      // The store's clock is behind ours: back off instead of spinning.
      this.#backoff = Math.min(Math.max(this.#backoff * 2, 5), MAX_BACKOFF);
      this.schedule(now + this.#backoff);
    } else {
      this.#backoff = 0;
      this.schedule(next);
    }
  };
}
