import { readFile } from "node:fs/promises";
import { percentile } from "@switchboard/testkit/stats";
import type { EventKind, Outcome } from "./route-watch.ts";

/** Current and peak resident memory of a process, from /proc (MB). */
export async function rssMb(pid: number | "self"): Promise<{ now: number; peak: number }> {
  const status = await readFile(`/proc/${pid}/status`, "utf8");
  const kb = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? 0);
  return { now: kb("VmRSS") / 1024, peak: kb("VmHWM") / 1024 };
}

const fixed = (value: number) => (Number.isNaN(value) ? "n/a" : value.toFixed(0));

/** `p50 X ms, p99 Y ms` of a set of outcomes, with how many and how many late. */
export function latencySummary(outcomes: readonly Outcome[], lateMs: number): string {
  const latencies = outcomes.map((o) => o.latencyMs);
  const late = latencies.filter((l) => l > lateMs).length;
  return `${outcomes.length} done, p50 ${fixed(percentile(latencies, 50))} ms, p99 ${fixed(percentile(latencies, 99))} ms, max ${fixed(latencies.length ? Math.max(...latencies) : Number.NaN)} ms, late (> ${lateMs} ms) ${late}`;
}

export function byKind(outcomes: readonly Outcome[]): Map<EventKind, Outcome[]> {
  const groups = new Map<EventKind, Outcome[]>();
  for (const outcome of outcomes) {
    const list = groups.get(outcome.kind) ?? [];
    list.push(outcome);
    groups.set(outcome.kind, list);
  }
  return groups;
}

export function p(outcomes: readonly Outcome[], rank: number): string {
  return fixed(
    percentile(
      outcomes.map((o) => o.latencyMs),
      rank,
    ),
  );
}
