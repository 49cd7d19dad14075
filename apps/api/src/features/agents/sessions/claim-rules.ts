import type { Reported } from "./live-sessions.ts";

/**
 * How far a switch's clock may run ahead of the API's. The newest session of a host wins, so a
 * switch that could date a session in the future would win every host it names, for as long as
 * it liked; NTP keeps honest clocks well within this.
 */
export const MAX_CLOCK_SKEW_MS = 5000;

/** What is wrong with a reported session as a claim (a field path and the rule), or null. */
export function claimProblem(report: Reported, receivedAt: number): string | null {
  if (!Number.isFinite(report.connectedAt)) return "connectedAt is not a time";
  const ahead = report.connectedAt - receivedAt;
  if (ahead <= MAX_CLOCK_SKEW_MS) return null;
  return `connectedAt ${new Date(report.connectedAt).toISOString()} is ${Math.ceil(ahead / 1000)} s after the API received it: at most ${MAX_CLOCK_SKEW_MS / 1000} s of clock skew is allowed`;
}
