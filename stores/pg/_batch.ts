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

/** Runs `run` on batches of at most `max` items; each caller gets its own item's result. */
export class Coalescer<I, O> {
  readonly #run: (items: I[]) => Promise<O[]>;
  readonly #max: number;
  #waiting: Waiting<I, O>[] = [];
  #draining: Promise<void> | undefined;

  constructor(run: (items: I[]) => Promise<O[]>, max = 500) {
    this.#run = run;
    this.#max = max;
  }

  /** Queue one item; resolves with its result once its batch ran. */
  push(item: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.#waiting.push({ item, resolve, reject });
      this.#draining ??= this.#drain();
    });
  }

  /** Resolves once no batch is running or waiting. */
  async idle(): Promise<void> {
    while (this.#draining) await this.#draining;
  }

  async #drain(): Promise<void> {
    while (this.#waiting.length > 0) {
      const batch = this.#waiting.splice(0, this.#max);
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
