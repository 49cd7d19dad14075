import { hash } from "@node-rs/argon2";
import { newSecret } from "../auth/secrets.ts";
import { loadConfig } from "../config.ts";
import { openDatabase } from "../db/database.ts";
import { inTransaction } from "../db/transactions.ts";
import type { AuditContext } from "../features/audit/audit-log.ts";
import { recordAudit } from "../features/audit/audit-log.ts";
import type { PrismaClient } from "../generated/prisma/client.ts";
import { CliError } from "./cli-error.ts";
import { databaseTargetOf } from "./database-target.ts";
import { readStdinLine } from "./read-stdin.ts";

/** The same rule as the API's PasswordSchema. */
export const PASSWORD_MIN = 12;
export const PASSWORD_MAX = 256;
const ARGON2ID = 2;

/** Who did it: whoever had a shell on the control host, which the audit row says. */
const CLI_ACTOR: AuditContext = { actorType: "system", actorName: "cli" };

export interface ResetResult {
  username: string;
  userId: string;
  disabled: boolean;
}

/**
 * Gives `username` a new password, ends its sessions and clears its sign-in throttle (a locked-out
 * administrator is the usual reason to be here), with one audit row in the same transaction.
 */
export async function resetPassword(prisma: PrismaClient, username: string, password: string): Promise<ResetResult> {
  if (password.length < PASSWORD_MIN || password.length > PASSWORD_MAX) {
    throw new CliError(`password: must be ${PASSWORD_MIN} to ${PASSWORD_MAX} characters; got ${password.length}`);
  }
  const user = await prisma.user.findUnique({ where: { username } });
  if (!user) throw new CliError(`no user named ${JSON.stringify(username)}: check the name (it is case-sensitive)`);
  const passwordHash = await hash(password, { algorithm: ARGON2ID });
  await inTransaction(prisma, async (tx) => {
    await tx.user.update({ where: { id: user.id }, data: { passwordHash } });
    await tx.loginSession.deleteMany({ where: { userId: user.id } });
    await tx.loginThrottle.deleteMany({
      where: { OR: [{ key: `user:${user.username}` }, { key: { startsWith: `pair:${user.username} ` } }] },
    });
    await recordAudit(tx, CLI_ACTOR, {
      action: "user.password-reset",
      targetType: "user",
      targetId: user.id,
      summary: { username: user.username, via: "switchboard admin reset-password" },
    });
  });
  return { username: user.username, userId: user.id, disabled: user.disabledAt !== null };
}

export async function resetPasswordCommand(username: string, options: { fromStdin: boolean }): Promise<void> {
  if (username.length < 1 || username.length > 64) throw new CliError("USER: must be 1 to 64 characters");
  const password = options.fromStdin ? await readStdinLine("--stdin") : newPassword();
  const config = loadConfig();
  const db = await openDatabase(databaseTargetOf(config));
  try {
    const result = await resetPassword(db.prisma, username, password);
    if (!options.fromStdin) process.stdout.write(`new password for ${result.username}: ${password}\n`);
    else process.stdout.write(`password of ${result.username} changed\n`);
    process.stdout.write("its sessions were ended; the change is in the audit log (actor cli)\n");
    if (result.disabled) process.stderr.write(`note: ${result.username} is disabled; an administrator can enable it\n`);
  } finally {
    await db.close();
  }
}

/** 24 characters from the URL-safe alphabet: 144 bits, typed by hand once and then changed. */
function newPassword(): string {
  return newSecret().slice(0, 24);
}
