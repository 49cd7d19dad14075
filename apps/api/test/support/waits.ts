/**
 * Options for `vi.waitFor` and `expect.poll`. Their defaults (1 s) fail on a busy 2-core machine;
 * these only catch hangs, so they are long: a wait ends as soon as its condition holds.
 */
export const patiently = { timeout: 30_000, interval: 20 } as const;
