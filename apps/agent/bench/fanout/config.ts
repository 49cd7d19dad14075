/** The storm's sizes and shares, from the environment (defaults: the target size). */

const number = (name: string, fallback: number): number => {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 0) throw new Error(`${name} must be a non-negative number, not ${raw}`);
  return value;
};

export interface Shares {
  readonly connect: number;
  readonly roam: number;
  readonly disconnect: number;
}

export interface FanoutConfig {
  readonly switches: number;
  readonly hosts: number;
  /** Session events per second during the storm. */
  readonly rate: number;
  readonly seconds: number;
  /** Hosts connected before the storm (unmeasured warm-up), so that roams and disconnects have hosts to act on. */
  readonly connected: number;
  readonly shares: Shares;
  /** A host gets its next event no sooner than this after its last (a roam needs a newer connect second). */
  readonly restMs: number;
  /** After the storm: an event whose route has not reached every peer by then is lost. */
  readonly deadlineMs: number;
  /** Above this an event is late. */
  readonly lateMs: number;
  /** How many agents take their first snapshot at once. */
  readonly connectConcurrency: number;
  /** API processes (`--instances N`): with more than one they share a PostgreSQL database. */
  readonly instances: number;
}

/** `--instances N` on the command line (or BENCH_INSTANCES); 1 runs one API on embedded PGlite. */
function instances(): number {
  const at = process.argv.indexOf("--instances");
  const raw = at >= 0 ? process.argv[at + 1] : process.env.BENCH_INSTANCES;
  if (raw === undefined || raw === "") return 1;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1 || value > 16) throw new Error(`--instances must be 1 to 16, not ${raw}`);
  return value;
}

function shares(): Shares {
  const raw = (process.env.BENCH_SHARES ?? "60/25/15").split("/").map(Number);
  const [connect = 0, roam = 0, disconnect = 0] = raw;
  const sum = connect + roam + disconnect;
  if (raw.length !== 3 || raw.some((v) => !Number.isFinite(v) || v < 0) || sum <= 0) {
    throw new Error(
      `BENCH_SHARES must be connect/roam/disconnect percentages, e.g. 60/25/15, not ${process.env.BENCH_SHARES}`,
    );
  }
  return { connect: connect / sum, roam: roam / sum, disconnect: disconnect / sum };
}

export function readConfig(): FanoutConfig {
  const hosts = number("BENCH_HOSTS", 50_000);
  return {
    switches: number("BENCH_SWITCHES", 50),
    hosts,
    rate: number("BENCH_RATE", 5000),
    seconds: number("BENCH_SECONDS", 10),
    connected: number("BENCH_CONNECTED", Math.round(hosts * 0.3)),
    shares: shares(),
    restMs: number("BENCH_REST_MS", 5000),
    deadlineMs: number("BENCH_DEADLINE_MS", 30_000),
    lateMs: number("BENCH_LATE_MS", 1000),
    connectConcurrency: Math.max(1, number("BENCH_CONNECT_CONCURRENCY", 2)),
    instances: instances(),
  };
}
