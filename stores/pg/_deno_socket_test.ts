// The Deno socket under postgres.js (see _deno_socket.ts): when it is used, and that it behaves
// as postgres.js needs `net.Socket` to (ordered writes, backpressure, end, errors, close).
import assert from "node:assert/strict";
import postgres from "postgres";
import { DenoSocket, denoSocketOption } from "./_deno_socket.ts";
import { admin, eventually, PG_URL, pgTest } from "./_test_utils.ts";

type Net = Parameters<typeof DenoSocket.open>[0];
type Conn = Awaited<ReturnType<Net["connect"]>>;

const ONE_HOST = { host: ["db"], port: [5432], connect_timeout: 1 };

/** A fake connection: records writes (at most `chunk` bytes per call), reads from `incoming`. */
function fakeConn(chunk = Infinity) {
  const written: number[] = [];
  const incoming: (Uint8Array | null | Error)[] = [];
  let wake: (() => void) | undefined;
  const state = { closed: false, closedWrite: false, writes: 0 };
  const conn: Conn = {
    async read(p) {
      while (incoming.length === 0) await new Promise<void>((r) => wake = r);
      const next = incoming.shift()!;
      if (next instanceof Error) throw next;
      if (next === null) return null;
      p.set(next);
      return next.length;
    },
    write(p) {
      state.writes++;
      const n = Math.min(chunk, p.length);
      for (let i = 0; i < n && written.length < 1000; i++) written.push(p[i]);
      return Promise.resolve(n);
    },
    closeWrite() {
      state.closedWrite = true;
      return Promise.resolve();
    },
    close() {
      state.closed = true;
    },
  };
  const push = (x: Uint8Array | null | Error) => {
    incoming.push(x);
    wake?.();
  };
  return { conn, written, push, state };
}

const netOf = (conn: Conn): Net => ({ connect: () => Promise.resolve(conn) });
const tick = () => new Promise((r) => setTimeout(r, 0));

Deno.test("denoSocketOption: Deno sockets for one host without TLS, postgres.js's own otherwise", () => {
  assert.equal(typeof denoSocketOption(ONE_HOST), "function");
  assert.equal(
    typeof denoSocketOption({ host: [], port: [], path: "/run/pg/.s.PGSQL.5432" }),
    "function",
  );
  assert.equal(denoSocketOption({ ...ONE_HOST, ssl: "require" }), undefined);
  assert.equal(denoSocketOption({ ...ONE_HOST, host: ["a", "b"], port: [5432, 5432] }), undefined);
});

Deno.test("DenoSocket writes every byte in order, however the connection splits them", async () => {
  const { conn, written, state } = fakeConn(3);
  const socket = await DenoSocket.open(netOf(conn), ONE_HOST);
  const done: string[] = [];
  assert.equal(socket.write(new Uint8Array([1, 2, 3, 4, 5]), () => done.push("a")), true);
  socket.write("hi", () => done.push("b"));
  await tick();
  assert.deepEqual(written, [1, 2, 3, 4, 5, 104, 105]);
  assert.deepEqual(done, ["a", "b"]);
  socket.end(new Uint8Array([9]));
  await tick();
  assert.deepEqual(written.at(-1), 9);
  assert.ok(state.closedWrite && state.closed, "written, then closed");
  assert.equal(socket.readyState, "closed");
});

Deno.test("DenoSocket asks for a pause past its high-water mark and says when to go on", async () => {
  const { conn } = fakeConn();
  const socket = await DenoSocket.open(netOf(conn), ONE_HOST);
  let drained = 0;
  socket.on("drain", () => drained++);
  assert.equal(socket.write(new Uint8Array(2 * 1024 * 1024)), false, "over the mark");
  await tick();
  assert.equal(drained, 1);
  assert.equal(socket.write(new Uint8Array(10)), true);
  socket.destroy();
});

Deno.test("DenoSocket reads once data is listened for, pauses, and ends with close", async () => {
  const { conn, push } = fakeConn();
  const socket = await DenoSocket.open(netOf(conn), ONE_HOST);
  const got: number[][] = [];
  const closed: boolean[] = [];
  socket.on("close", (hadError: boolean) => closed.push(hadError));
  push(new Uint8Array([1, 2]));
  await tick();
  assert.equal(got.length, 0, "nothing read before a data listener");
  socket.on("data", (b: Uint8Array) => got.push([...b]));
  await tick();
  assert.deepEqual(got, [[1, 2]]);
  socket.pause();
  push(new Uint8Array([3]));
  await tick();
  push(new Uint8Array([4]));
  await tick();
  assert.ok(got.length <= 2, "at most the read already waiting completes while paused");
  socket.resume();
  await tick();
  assert.deepEqual(got.flat(), [1, 2, 3, 4]);
  push(null);
  await tick();
  assert.deepEqual(closed, [false], "the server's end: close without error");
  assert.equal(socket.readyState, "closed");
  assert.equal(socket.write(new Uint8Array([1])), false, "no write after close");
});

Deno.test("DenoSocket reports a read error as error, then close", async () => {
  const { conn, push } = fakeConn();
  const socket = await DenoSocket.open(netOf(conn), ONE_HOST);
  const seen: string[] = [];
  socket.on("error", (e: Error) => seen.push(`error ${e.message}`));
  socket.on("close", (hadError: boolean) => seen.push(`close ${hadError}`));
  socket.on("data", () => {});
  const failed: unknown[] = [];
  push(Object.assign(new Error("reset by peer"), { name: "ConnectionReset" }));
  socket.write(new Uint8Array([1]), (e) => failed.push(e));
  await tick();
  await tick();
  assert.deepEqual(seen, ["error reset by peer", "close true"]);
});

Deno.test("DenoSocket.open: refused and timed-out connections fail as node:net's do", async () => {
  const refused: Net = {
    connect: () =>
      Promise.reject(Object.assign(new Error("Connection refused"), { name: "ConnectionRefused" })),
  };
  await assert.rejects(
    () => DenoSocket.open(refused, { host: ["127.0.0.1"], port: [1] }),
    (e: Error & { code?: string }) => {
      assert.equal(e.code, "ECONNREFUSED");
      assert.match(e.message, /ECONNREFUSED 127\.0\.0\.1:1/);
      return true;
    },
  );
  // A connection that arrives after the timeout is closed.
  const late = fakeConn();
  let arrive!: (c: Conn) => void;
  const slow: Net = { connect: () => new Promise((r) => arrive = r) };
  await assert.rejects(
    () => DenoSocket.open(slow, { ...ONE_HOST, connect_timeout: 0.05 }),
    (e: Error & { code?: string }) => e.code === "CONNECT_TIMEOUT",
  );
  arrive(late.conn);
  await tick();
  assert.ok(late.state.closed);
});

pgTest(
  "postgres.js on DenoSocket: queries, large messages, LISTEN, and a killed connection",
  async () => {
    const url = new URL(PG_URL);
    const socket = denoSocketOption({ host: [url.hostname], port: [Number(url.port || 5432)] });
    assert.ok(socket, "on Deno, for one host without TLS");
    const app = `conveyor-socket-${crypto.randomUUID().slice(0, 8)}`;
    const sql = postgres(PG_URL, {
      socket,
      max: 1,
      onnotice: () => {},
      connection: { application_name: app },
    } as never);
    try {
      assert.deepEqual([...await sql`select 1 as n`], [{ n: 1 }]);
      const big = "x".repeat(3 * 1024 * 1024);
      const [echo] = await sql`select length(${big}::text) as n, md5(${big}::text) as h`;
      assert.equal(echo.n, big.length);
      const notes: string[] = [];
      await sql.listen("conveyor_socket_test", (p) => notes.push(p));
      await sql.notify("conveyor_socket_test", "hello");
      await eventually(() => notes.length > 0, "the notification");
      assert.deepEqual(notes, ["hello"]);
      const rows = await Promise.all(
        Array.from({ length: 50 }, (_, i) => sql`select ${i}::int as i`),
      );
      assert.deepEqual(rows.map((r) => r[0].i), Array.from({ length: 50 }, (_, i) => i));
      // The server ends the connections: the next query fails or reconnects, the one after works.
      const killed = await admin((a) =>
        a.unsafe(
          "select pid, pg_terminate_backend(pid) from pg_stat_activity where application_name = $1",
          [app],
        )
      );
      assert.ok(killed.length >= 1);
      await eventually(async () => {
        const [left] = await admin((a) =>
          a.unsafe("select count(*)::int as n from pg_stat_activity where pid = any($1::int[])", [
            killed.map((r) => r.pid),
          ])
        );
        return left.n === 0;
      }, "the killed sessions gone");
      await sql`select 1`.catch(() => {});
      assert.deepEqual([...await sql`select 2 as n`], [{ n: 2 }]);
    } finally {
      await sql.end({ timeout: 1 });
    }
  },
);
