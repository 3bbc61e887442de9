/**
 * Coalescing of concurrent calls into one statement: while one batch is running, new calls
 * wait; when it ends, all of them run together as the next batch. A call that finds nothing
 * running starts at once, so coalescing adds no delay to a lone call, and under load it turns
 * many round trips and commits into one.
 *
 * @module
 */

interface Waiting<I, O> {
  item: I;
  resolve: (out: O) => void;
  reject: (error: unknown) => void;
}

/** Options of {@linkcode Coalescer}. */
export interface CoalescerOptions<I> {
  /** Most weight per batch (a batch holds at least one item). @default 500 */
  max?: number;
  /** The weight of an item (e.g. the jobs it holds). @default 1 */
  weight?: (item: I) => number;
  /**
   * Start a batch only after the current task, so that every call made in the same task (e.g.
   * the completions of jobs that ended together) goes in the first statement instead of one
   * alone and the rest after it. For calls whose latency matters less than their round trips.
   * @default false
   */
  gather?: boolean;
}

/** Runs `run` on batches of at most `max` items; each caller gets its own item's result. */
export class Coalescer<I, O> {
  readonly #run: (items: I[]) => Promise<O[]>;
  readonly #max: number;
  readonly #weight: ((item: I) => number) | undefined;
  readonly #gather: boolean;
  #waiting: Waiting<I, O>[] = [];
  #draining: Promise<void> | undefined;

  constructor(run: (items: I[]) => Promise<O[]>, options: CoalescerOptions<I> = {}) {
    this.#run = run;
    this.#max = options.max ?? 500;
    this.#weight = options.weight;
    this.#gather = options.gather ?? false;
  }

  /** Queue one item; resolves with its result once its batch ran. */
  push(item: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.#waiting.push({ item, resolve, reject });
      this.#draining ??= this.#gather
        ? new Promise<void>((start) => setTimeout(start, 0)).then(() => this.#drain())
        : this.#drain();
    });
  }

  #take(): Waiting<I, O>[] {
    const weight = this.#weight;
    if (!weight) return this.#waiting.splice(0, this.#max);
    let n = 0;
    let total = 0;
    while (
      n < this.#waiting.length && (n === 0 || total + weight(this.#waiting[n].item) <= this.#max)
    ) {
      total += weight(this.#waiting[n].item);
      n++;
    }
    return this.#waiting.splice(0, n);
  }

  /** Resolves once no batch is running or waiting. */
  async idle(): Promise<void> {
    while (this.#draining) await this.#draining;
  }

  async #drain(): Promise<void> {
    while (this.#waiting.length > 0) {
      const batch = this.#take();
      try {
        const outs = await this.#run(batch.map((w) => w.item));
        batch.forEach((w, i) => w.resolve(outs[i]));
      } catch (error) {
        for (const w of batch) w.reject(error);
      }
    }
    this.#draining = undefined;
  }
}
