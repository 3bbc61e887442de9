/**
 * Turns child results into the tables: min/median/max per cell, and per Conveyor row its speed
 * relative to the best other system on the same backend.
 *
 * @module
 */

import type { System } from "./_matrix.ts";
import type { ChildResult } from "./_spawn.ts";
import { type Workload, WORKLOADS } from "./lib/types.ts";

/** The repetitions of one (system, workload) and their spread. */
export interface Cell {
  values: number[];
  unit?: string;
  min?: number;
  median?: number;
  max?: number;
  /** Why there is no number: skipped, unsupported, or an error. */
  note?: string;
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/** Folds the repetitions of one cell. */
export function summarize(results: ChildResult[]): Cell {
  const values = results.flatMap((r) => (r.value === undefined ? [] : [r.value]));
  const cell: Cell = { values, unit: results.find((r) => r.unit)?.unit };
  const failed = results.find((r) => r.error);
  const skipped = results.find((r) => r.skipped);
  if (values.length) {
    cell.min = Math.min(...values);
    cell.max = Math.max(...values);
    cell.median = median(values);
    if (failed) cell.note = `${results.length - values.length} run(s) failed`;
  } else if (skipped) cell.note = skipped.skipped;
  else if (failed) cell.note = `error: ${failed.error}`;
  return cell;
}

/** The cell's reason in a few words; the full text goes under the table. */
function shortNote(note: string): string {
  if (note.startsWith("not available yet")) return "not available yet";
  if (note.startsWith("error")) return "error";
  return note.slice(0, 24);
}

/** 3 significant digits with k/M suffixes: 1234 → "1.23k". */
export function fmt(x: number): string {
  const abs = Math.abs(x);
  const [d, s] = abs >= 1e6 ? [1e6, "M"] : abs >= 1e3 ? [1e3, "k"] : [1, ""];
  const v = x / d;
  const digits = Math.abs(v) >= 100 ? 0 : Math.abs(v) >= 10 ? 1 : 2;
  return v.toFixed(digits) + s;
}

function cellText(c: Cell | undefined): string {
  if (!c) return "–";
  if (c.median === undefined) return c.note ? `n/a: ${shortNote(c.note)}` : "–";
  const spread = c.values.length > 1 ? ` [${fmt(c.min!)}–${fmt(c.max!)}]` : "";
  return `${fmt(c.median)}${spread}${c.note ? " ⚠" : ""}`;
}

export type Grid = Map<string, Map<Workload, Cell>>;

const lowerIsBetter = (w: Workload) => w === "latency";

/** Best non-Conveyor system on the same backend for one workload, or undefined. */
export function bestPeer(
  systems: System[],
  grid: Grid,
  backend: string,
  w: Workload,
): { system: System; median: number } | undefined {
  let best: { system: System; median: number } | undefined;
  for (const s of systems) {
    if (s.conveyor || s.backend !== backend) continue;
    const m = grid.get(s.id)?.get(w)?.median;
    if (m === undefined) continue;
    const better = !best || (lowerIsBetter(w) ? m < best.median : m > best.median);
    if (better) best = { system: s, median: m };
  }
  return best;
}

/** Conveyor's speed relative to the best peer: above 1 means Conveyor is faster. */
function ratioText(systems: System[], grid: Grid, s: System, w: Workload): string {
  const mine = grid.get(s.id)?.get(w)?.median;
  const best = bestPeer(systems, grid, s.backend, w);
  if (mine === undefined || !best) return "–";
  const r = lowerIsBetter(w) ? best.median / mine : mine / best.median;
  return `${r.toFixed(2)}× ${best.system.id}`;
}

const HEADINGS: Record<Workload, string> = {
  "enqueue-serial": "enqueue-serial (jobs/s)",
  "enqueue-par": "enqueue-par (jobs/s)",
  "enqueue-bulk": "enqueue-bulk (jobs/s)",
  "process": "process (jobs/s)",
  "latency": "latency p50 (ms)",
  "flow": "flow (jobs/s)",
};

/** The main table: one row per system, a ratio row under each Conveyor row. */
export function mainTable(systems: System[], grid: Grid, workloads: readonly Workload[]): string {
  const ws = WORKLOADS.filter((w) => workloads.includes(w));
  const head = ["system", "backend", ...ws.map((w) => HEADINGS[w])];
  const rows: string[][] = [];
  for (const s of systems) {
    rows.push([s.label, s.backend, ...ws.map((w) => cellText(grid.get(s.id)?.get(w)))]);
    if (s.conveyor && systems.some((p) => !p.conveyor && p.backend === s.backend)) {
      rows.push([
        `↳ ${s.id} ÷ best peer`,
        s.backend,
        ...ws.map((w) => ratioText(systems, grid, s, w)),
      ]);
    }
  }
  return markdown(head, rows);
}

/** The scaling check: `process` throughput by job count. */
export function scalingTable(systems: System[], byN: Map<string, Map<number, Cell>>): string {
  const sizes = [...new Set([...byN.values()].flatMap((m) => [...m.keys()]))].sort((a, b) => a - b);
  const head = [
    "system",
    ...sizes.map((n) => `process ${n.toLocaleString("en-US")} jobs (jobs/s)`),
  ];
  const rows = systems.filter((s) => byN.has(s.id)).map((s) => [
    s.label,
    ...sizes.map((n) => cellText(byN.get(s.id)!.get(n))),
  ]);
  return markdown(head, rows);
}

export function markdown(head: string[], rows: string[][]): string {
  const esc = (s: string) => s.replaceAll("|", "\\|");
  const line = (cells: string[]) => `| ${cells.map(esc).join(" | ")} |`;
  return [line(head), line(head.map(() => "---")), ...rows.map(line)].join("\n");
}

/** Notes under the table for cells that failed or were skipped, so nothing hides in "n/a". */
export function notes(systems: System[], grid: Grid): string[] {
  const out: string[] = [];
  for (const s of systems) {
    const cells = [...(grid.get(s.id) ?? [])].filter(([, c]) => c.note);
    const same = cells.length > 1 && cells.every(([, c]) => c.note === cells[0][1].note);
    const one = (note: string) => note.replace(/\s+/g, " ").slice(0, 300);
    if (same) out.push(`- ${s.label}, every workload: ${one(cells[0][1].note!)}`);
    else for (const [w, c] of cells) out.push(`- ${s.label}, ${w}: ${one(c.note!)}`);
  }
  return out;
}
