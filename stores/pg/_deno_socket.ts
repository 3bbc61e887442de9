/**
 * On Deno, the store's connections run on Deno's own TCP (or Unix) sockets rather than on its
 * `node:net` layer, through postgres.js's `socket` option: each write and each read crosses one
 * layer less (measured here: a small write-and-answer round trip after an idle moment takes
 * about 0.15 ms instead of 0.27 ms, and `node:net`'s write was 7% of a busy worker's CPU).
 *
 * Used only where it can stand in for `node:net` completely: on Deno, for a connection to one
 * host without TLS. Everywhere else (Node, Bun, TLS, several hosts) postgres.js keeps its own
 * sockets. Deno is found at run time (`Reflect.get`), so the npm build carries no `Deno` global.
 *
 * @module
 */

import { Buffer } from "node:buffer";
import { EventEmitter } from "node:events";

/** The part of a Deno connection used here. */
interface DenoConn {
  read(p: Uint8Array): Promise<number | null>;
  write(p: Uint8Array): Promise<number>;
  closeWrite(): Promise<void>;
  close(): void;
  setNoDelay?(noDelay?: boolean): void;
  setKeepAlive?(keepAlive?: boolean): void;
}

/** The part of the `Deno` namespace used here. */
interface DenoNet {
  connect(
    options: { hostname: string; port: number } | { transport: "unix"; path: string },
  ): Promise<DenoConn>;
}

/** The postgres.js options the socket factory reads. */
interface SocketOptions {
  host: string[];
  port: number[];
  path?: string | false;
  ssl?: unknown;
  connect_timeout?: number | null;
}

/** Bytes read per call; each read hands postgres.js a copy of what arrived. */
const READ_SIZE = 64 * 1024;

/** Unwritten bytes past which `write()` asks postgres.js to wait for `drain`. */
const HIGH_WATER = 1024 * 1024;

function deno(): DenoNet | undefined {
  const d = Reflect.get(globalThis, "Deno") as Partial<DenoNet> | undefined;
  return typeof d?.connect === "function" ? d as DenoNet : undefined;
}

/**
 * postgres.js's `socket` option for `options` (already parsed by postgres.js), or `undefined`
 * where postgres.js should keep its own sockets: not on Deno, TLS wanted, or several hosts.
 */
export function denoSocketOption(
  options: SocketOptions,
): ((o: SocketOptions) => Promise<DenoSocket>) | undefined {
  const net = deno();
  if (!net || options.ssl || (!options.path && options.host.length !== 1)) return undefined;
  return (o) => DenoSocket.open(net, o);
}

/**
 * A connected Deno socket with the parts of `net.Socket` postgres.js uses: `data`, `error`,
 * `close` and `drain` events, `write` (in order, with backpressure), `end`, `destroy`,
 * `pause`/`resume`, `readyState`.
 */
export class DenoSocket extends EventEmitter {
  readonly host: string;
  readonly port: number;
  readyState: "open" | "closed" = "open";
  readonly #conn: DenoConn;
  /** Chunks not yet written, in order, with their callbacks. */
  #queue: { data: Uint8Array; done?: (error?: Error | null) => void }[] = [];
  #queued = 0;
  #writing = false;
  #needDrain = false;
  #reading = false;
  #paused = false;
  #ending = false;

  private constructor(conn: DenoConn, host: string, port: number) {
    super();
    this.#conn = conn;
    this.host = host;
    this.port = port;
    conn.setNoDelay?.(true);
    // Reading starts once postgres.js listens for data (see `on`).
    this.on("newListener", (event: string) => {
      if (event === "data") queueMicrotask(() => this.#read());
    });
  }

  /** Connect as postgres.js's options say, within `connect_timeout`. */
  static async open(net: DenoNet, o: SocketOptions): Promise<DenoSocket> {
    const host = o.path ? o.path : o.host[0];
    const port = o.path ? 0 : o.port[0];
    const connecting = net.connect(
      o.path ? { transport: "unix", path: o.path } : { hostname: host, port },
    );
    let timer: ReturnType<typeof setTimeout> | undefined;
    const seconds = o.connect_timeout;
    try {
      const conn = await (seconds
        ? Promise.race([
          connecting,
          new Promise<never>((_, reject) => {
            timer = setTimeout(
              () => reject(connectError("CONNECT_TIMEOUT", "timed out", host, port)),
              seconds * 1000,
            );
          }),
        ])
        : connecting);
      return new DenoSocket(conn, host, port);
    } catch (error) {
      // A connection that arrives after the timeout is closed at once.
      connecting.then((c) => c.close(), () => {});
      throw (error as { code?: string }).code ? error : connectError(
        codeOf(error),
        (error as Error)?.message ?? String(error),
        host,
        port,
        error,
      );
    } finally {
      clearTimeout(timer);
    }
  }

  write(data: Uint8Array | string, done?: (error?: Error | null) => void): boolean {
    if (this.readyState !== "open" || this.#ending) {
      const error = connectError("EPIPE", "write after end", this.host, this.port);
      if (done) queueMicrotask(() => done(error));
      return false;
    }
    const bytes = typeof data === "string" ? Buffer.from(data) : data;
    this.#queue.push({ data: bytes, done });
    this.#queued += bytes.length;
    if (!this.#writing) this.#flush();
    if (this.#queued >= HIGH_WATER) this.#needDrain = true;
    return !this.#needDrain;
  }

  /** Write `data` (if any), then close the socket once everything is written. */
  end(data?: Uint8Array | string): this {
    if (data !== undefined && data.length > 0) this.write(data);
    this.#ending = true;
    if (!this.#writing) this.#finish();
    return this;
  }

  destroy(error?: Error): this {
    this.#close(error);
    return this;
  }

  pause(): this {
    this.#paused = true;
    return this;
  }

  resume(): this {
    if (this.#paused) {
      this.#paused = false;
      queueMicrotask(() => this.#read());
    }
    return this;
  }

  setKeepAlive(enable?: boolean): this {
    this.#conn.setKeepAlive?.(enable);
    return this;
  }

  async #flush(): Promise<void> {
    this.#writing = true;
    try {
      while (this.#queue.length > 0 && this.readyState === "open") {
        const { data, done } = this.#queue[0];
        let at = 0;
        while (at < data.length) at += await this.#conn.write(data.subarray(at));
        this.#queue.shift();
        this.#queued -= data.length;
        done?.(null);
      }
    } catch (error) {
      this.#close(error as Error);
      return;
    } finally {
      this.#writing = false;
    }
    if (this.#needDrain && this.#queued < HIGH_WATER) {
      this.#needDrain = false;
      this.emit("drain");
    }
    if (this.#ending) this.#finish();
  }

  #finish(): void {
    if (this.readyState !== "open") return;
    this.#conn.closeWrite().catch(() => {}).finally(() => this.#close());
  }

  async #read(): Promise<void> {
    if (this.#reading || this.#paused || this.readyState !== "open") return;
    this.#reading = true;
    const buffer = new Uint8Array(READ_SIZE);
    try {
      while (!this.#paused && this.readyState === "open") {
        const n = await this.#conn.read(buffer);
        if (n === null) {
          this.#close();
          return;
        }
        if (n > 0) this.emit("data", Buffer.from(buffer.subarray(0, n)));
      }
    } catch (error) {
      this.#close(error as Error);
    } finally {
      this.#reading = false;
    }
  }

  /** Close once: `error` (if any) then `close`, and fail the writes not done. */
  #close(error?: Error): void {
    if (this.readyState === "closed") return;
    this.readyState = "closed";
    try {
      this.#conn.close();
    } catch { /* already closed */ }
    const failed = error ?? connectError("ECONNRESET", "socket closed", this.host, this.port);
    for (const { done } of this.#queue.splice(0)) done?.(failed);
    this.#queued = 0;
    const hadError = error !== undefined && !isClosedByUs(error);
    queueMicrotask(() => {
      if (hadError) this.emit("error", error);
      this.emit("close", hadError);
    });
  }
}

/** An error closing the connection ourselves raises in a pending read or write. */
function isClosedByUs(error: Error): boolean {
  return error?.name === "BadResource" || error?.name === "Interrupted";
}

const CODES: Record<string, string> = {
  ConnectionRefused: "ECONNREFUSED",
  ConnectionReset: "ECONNRESET",
  ConnectionAborted: "ECONNABORTED",
  NotConnected: "ENOTCONN",
  AddrNotAvailable: "EADDRNOTAVAIL",
  TimedOut: "ETIMEDOUT",
  BrokenPipe: "EPIPE",
  NotFound: "ENOENT",
  PermissionDenied: "EACCES",
};

function codeOf(error: unknown): string {
  const name = (error as Error)?.name ?? "";
  if (CODES[name]) return CODES[name];
  // Name resolution failures carry no error class of their own.
  if (/dns|lookup|resolve|name or service/i.test((error as Error)?.message ?? "")) {
    return "ENOTFOUND";
  }
  return "ECONNERROR";
}

/** An error shaped as `node:net`'s are (`code`, `address`, `port`), for the messages. */
function connectError(
  code: string,
  detail: string,
  host: string,
  port: number,
  cause?: unknown,
): Error {
  const where = port ? `${host}:${port}` : host;
  return Object.assign(new Error(`connect ${code} ${where}: ${detail}`, { cause }), {
    code,
    errno: code,
    address: host,
    ...(port ? { port } : {}),
  });
}
