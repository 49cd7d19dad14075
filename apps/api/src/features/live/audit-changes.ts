import type { LiveMessage, LiveResource } from "@switchboard/shared";
import type { AuditEvent, PrismaClient } from "../../generated/prisma/client.ts";

type LiveChanged = Extract<LiveMessage, { type: "changed" }>;

/**
 * Which lists each audited action changes. Deleting a host or switch also revokes its
 * certificates; a network's deletion takes everything in it along. Actions that change no list
 * (sign-ins, killing a session: the session feed tells that) only add to the audit log.
 */
const RESOURCES: Readonly<Record<string, readonly LiveResource[]>> = {
  "network.create": ["networks"],
  "network.update": ["networks"],
  "network.delete": ["networks", "switches", "hosts", "certificates"],
  "network.tls-crypt.rotate": ["networks"],
  "network.pki.import": ["certificates"],
  "switch.create": ["switches", "certificates"],
  "switch.update": ["switches"],
  "switch.delete": ["switches", "certificates"],
  "switch.certificates.reissue": ["certificates"],
  // Enrollment and credentials show in the switch's agent status.
  "agent.enrollment.create": ["switches"],
  "agent.enroll": ["switches"],
  "agent.credential.revoke": ["switches"],
  "host.create": ["hosts"],
  "host.update": ["hosts"],
  "host.delete": ["hosts", "certificates"],
  "host.import": ["hosts"],
  // The first download of a profile issues the host's certificate.
  "host.profile.download": ["certificates"],
  "certificate.issue": ["certificates"],
  "certificate.renew": ["certificates"],
  "certificate.revoke": ["certificates"],
  "user.setup": ["users"],
  "user.create": ["users"],
  "user.update": ["users"],
  "user.delete": ["users"],
  "user.password": ["users"],
  "token.create": ["tokens"],
  "token.revoke": ["tokens"],
};

/** The lists an audited action changes; "audit" alone when it changes none. */
export function resourcesOf(action: string): readonly LiveResource[] {
  return RESOURCES[action] ?? ["audit"];
}

/** The target's type as the resource it names, so `id` is only ever an id of that resource. */
const TARGET_RESOURCE: Readonly<Record<string, LiveResource>> = {
  network: "networks",
  switch: "switches",
  host: "hosts",
  certificate: "certificates",
  user: "users",
  "api-token": "tokens",
};

function summaryNetworkId(summary: unknown): string | null {
  if (typeof summary !== "object" || summary === null) return null;
  const record = summary as { networkId?: unknown; after?: { networkId?: unknown } };
  const id = record.networkId ?? record.after?.networkId;
  return typeof id === "string" ? id : null;
}

/** The network a committed change belongs to: from the row when it says, else from its target (gone after a delete). */
async function networkOf(prisma: PrismaClient, event: AuditEvent): Promise<string | null> {
  const fromSummary = summaryNetworkId(event.summary);
  if (fromSummary || !event.targetId) return fromSummary;
  const where = { where: { id: event.targetId }, select: { networkId: true } } as const;
  switch (event.targetType) {
    case "network":
      return event.targetId;
    case "switch":
      return (await prisma.switch.findUnique(where))?.networkId ?? null;
    case "host":
      return (await prisma.host.findUnique(where))?.networkId ?? null;
    case "certificate":
      return (await prisma.certificate.findUnique(where))?.networkId ?? null;
    default:
      return null;
  }
}

/** The `changed` messages of one committed audit row, with full detail (live-visibility.ts trims them per role). */
export async function changedMessages(prisma: PrismaClient, event: AuditEvent): Promise<LiveChanged[]> {
  const resources = resourcesOf(event.action);
  const networkId = resources.every((r) => r === "audit" || r === "users" || r === "tokens")
    ? null
    : await networkOf(prisma, event);
  const targetResource = TARGET_RESOURCE[event.targetType];
  return resources.map((resource) => ({
    type: "changed",
    resource,
    id: resource === targetResource ? event.targetId : null,
    networkId,
    action: event.action,
    actor: event.actorName,
    at: event.at.toISOString(),
  }));
}
