import type { LiveMessage, LiveResource } from "@switchboard/shared";
import { type Access, ROLE_GRANTS } from "../../auth/access.ts";
import type { Role } from "../../generated/prisma/client.ts";

/** The grant that reads each resource's list over REST (users and tokens: admin; the audit log: audit). */
const READ_ACCESS: Readonly<Record<LiveResource, Access>> = {
  networks: "read",
  switches: "read",
  hosts: "read",
  certificates: "read",
  users: "admin",
  tokens: "admin",
  audit: "audit",
};

/**
 * A message as a role may see it, or null: nothing a role could not read over REST. Sessions,
 * agents and links need the read grant every role has. A change of a resource the role cannot
 * list reaches it only as "the audit log changed" (roles with the audit grant) or not at all; who
 * made a change is audit detail, so only roles with the audit grant learn the actor.
 */
export function visibleTo(role: Role, message: LiveMessage): LiveMessage | null {
  const grants = ROLE_GRANTS[role];
  if (message.type !== "changed") return grants.has("read") ? message : null;
  const seesActor = grants.has("audit");
  if (grants.has(READ_ACCESS[message.resource])) return seesActor ? message : { ...message, actor: null };
  if (!seesActor) return null;
  return { ...message, resource: "audit", id: null, networkId: null };
}
