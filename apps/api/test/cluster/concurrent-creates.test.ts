import { describeNeeding } from "@switchboard/testkit/needs";
import { afterAll, beforeAll, expect, it } from "vitest";
import { openDatabase } from "../../src/db/database.ts";
import { type LiveApi, networkWithSwitches, startLiveApiOn } from "../support/live-api.ts";
import { createScratchDatabase, type ScratchDatabase } from "../support/test-database.ts";

/**
 * Address allocation under load, across instances: 1,000 host creations at once, spread over
 * three API instances on one PostgreSQL database. Each used to hold a pooled connection idle
 * behind the network's row lock until the pool or the transaction's wait gave up (60-75% answered
 * 500 at 200 at once; after longer timeouts, 5xx once the queue outlasts them: 10 s, ~500 here).
 */
const COUNT = 1000;

describeNeeding(["postgresql"], "concurrent host creations over three instances", () => {
  let scratch: ScratchDatabase;
  const instances: LiveApi[] = [];

  beforeAll(async () => {
    scratch = await createScratchDatabase();
    const first = await startLiveApiOn(await openDatabase({ kind: "postgres", url: scratch.url }));
    instances.push(first);
    for (let i = 0; i < 2; i++) {
      instances.push(
        await startLiveApiOn(await openDatabase({ kind: "postgres", url: scratch.url }), {}, {}, first.pki),
      );
    }
  }, 120_000);
  afterAll(async () => {
    for (const live of instances) await live.close().catch(() => undefined);
    await scratch?.drop();
  });

  it("1,000 at once: every one created, no 5xx, every address distinct", async () => {
    const [first] = instances;
    if (!first) throw new Error("no instance started");
    const { networkId } = await networkWithSwitches(first.api, 1, { dataSubnet: "10.200.0.0/21" });
    const started = performance.now();
    const answers = await Promise.all(
      Array.from({ length: COUNT }, (_, i) =>
        (instances[i % instances.length] ?? first).api.post("/api/hosts", { networkId, commonName: `load-${i}` }),
      ),
    );
    const seconds = (performance.now() - started) / 1000;
    const statuses = new Map<number, number>();
    for (const answer of answers) statuses.set(answer.status, (statuses.get(answer.status) ?? 0) + 1);
    // A figure to read, not a limit: the rate depends on the machine.
    console.log(
      `concurrent creates: ${COUNT} over 3 instances in ${seconds.toFixed(2)} s, ${(COUNT / seconds).toFixed(0)}/s`,
    );
    expect(Object.fromEntries(statuses), answers.find((a) => a.status !== 201)?.text).toEqual({ 201: COUNT });
    const addresses = new Set(answers.map((a) => a.body.address));
    expect(addresses.size).toBe(COUNT);
    const rows = await first.db.prisma.host.count({ where: { networkId } });
    expect(rows).toBe(COUNT);
  }, 300_000);
});
