/**
 * The blast-radius guard: an update that would withdraw more than `maxShare` of the routes the
 * switch has is refused unless it is a verified full snapshot. A bug or a half-read database on
 * the API side then costs a refused update and a resync, not a switch without routes. Small
 * withdrawals (up to `alwaysAllow`) pass so a two-host network can still lose a host.
 */
export interface GuardInput {
  /** Routes the switch has now (ours). */
  readonly current: number;
  /** How many of them the update would remove. */
  readonly withdraw: number;
  readonly verifiedFullSnapshot: boolean;
  /** Default 0.5. */
  readonly maxShare?: number;
  /** Default 4. */
  readonly alwaysAllow?: number;
}

export type GuardVerdict = { readonly allowed: true } | { readonly allowed: false; readonly reason: string };

export function checkBlastRadius(input: GuardInput): GuardVerdict {
  const maxShare = input.maxShare ?? 0.5;
  const alwaysAllow = input.alwaysAllow ?? 4;
  if (input.verifiedFullSnapshot || input.withdraw <= alwaysAllow || input.current === 0) return { allowed: true };
  const share = input.withdraw / input.current;
  if (share <= maxShare) return { allowed: true };
  return {
    allowed: false,
    reason: `would withdraw ${input.withdraw} of ${input.current} routes (${Math.round(share * 100)}% > ${Math.round(
      maxShare * 100,
    )}%); only a verified full snapshot may do that`,
  };
}
