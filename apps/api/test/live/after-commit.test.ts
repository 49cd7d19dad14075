import { afterAll, beforeAll, expect, it } from "vitest";
import type { Database } from "../../src/db/database.ts";
import { inTransaction } from "../../src/db/transactions.ts";
import { onAuditCommitted, recordAudit, SYSTEM_ACTOR } from "../../src/features/audit/audit-log.ts";
import type { AuditEvent } from "../../src/generated/prisma/client.ts";
import { type DatabaseKind, describeEachDatabase, openTestDatabase } from "../support/test-database.ts";

describeEachDatabase("audit rows are announced after their transaction commits, never before", (kind: DatabaseKind) => {
  let db: Database;
  const heard: AuditEvent[] = [];
  let stop: () => void;

  beforeAll(async () => {
    db = await openTestDatabase(kind);
    stop = onAuditCommitted(db.prisma, (event) => heard.push(event));
  });
  afterAll(async () => {
    stop();
    await db.close();
  });

  it("announces a committed row once the commit is done, not while the transaction runs", async () => {
    heard.length = 0;
    let heardInside = -1;
    const row = await inTransaction(db.prisma, async (tx) => {
      const written = await recordAudit(tx, SYSTEM_ACTOR, { action: "test.commit", targetType: "test" });
      heardInside = heard.length;
      return written;
    });
    expect(heardInside).toBe(0);
    expect(heard.map((event) => event.id)).toEqual([row.id]);
    // Announced means visible to everyone else.
    expect(await db.prisma.auditEvent.findUnique({ where: { id: row.id } })).not.toBeNull();
  });

  it("announces nothing for a transaction that rolls back after writing its audit row", async () => {
    heard.length = 0;
    await expect(
      inTransaction(db.prisma, async (tx) => {
        await recordAudit(tx, SYSTEM_ACTOR, { action: "test.rollback", targetType: "test" });
        throw new Error("the change failed after its audit row");
      }),
    ).rejects.toThrow(/failed after/);
    expect(heard).toEqual([]);
    expect(await db.prisma.auditEvent.count({ where: { action: "test.rollback" } })).toBe(0);
  });

  it("keeps the change when a listener throws", async () => {
    const broken = onAuditCommitted(db.prisma, () => {
      throw new Error("listener bug");
    });
    try {
      const row = await inTransaction(db.prisma, (tx) =>
        recordAudit(tx, SYSTEM_ACTOR, { action: "test.listener", targetType: "test" }),
      );
      expect(await db.prisma.auditEvent.findUnique({ where: { id: row.id } })).not.toBeNull();
    } finally {
      broken();
    }
  });
});
