import type { Certificate, Host } from "@switchboard/shared";
import type { Grant } from "../../auth/roles.ts";

/**
 * What the console offers for certificates, mirroring the API's rules so it never shows an action
 * the API would refuse: a switch's certificates (server, backbone) are for admins, a host's for
 * operators; a revoked or disabled host gets no profile.
 */
export function mayRenew(certificate: Pick<Certificate, "kind" | "revokedAt">, can: (grant: Grant) => boolean) {
  if (certificate.revokedAt !== null || certificate.kind === "ca") return false;
  return can(certificate.kind === "client" ? "operate" : "admin");
}

/** Only a host's own key may come from a CSR: the API keeps a switch's keys to deliver them to its agent. */
export function takesCsr(certificate: Pick<Certificate, "kind" | "keyHeld">) {
  return certificate.kind === "client" && !certificate.keyHeld;
}

/** Why the host's profile cannot be downloaded now, or undefined when it can. */
export function profileBlockedBecause(
  host: Pick<Host, "enabled">,
  certificates: readonly Pick<Certificate, "revokedAt">[] | undefined,
): string | undefined {
  if (!host.enabled) return "Disabled: it gets no profile until it is enabled again.";
  if (certificates === undefined || certificates.length === 0) return undefined;
  if (certificates.every((cert) => cert.revokedAt !== null)) {
    return "Its certificate was revoked: a profile needs a new certificate, issued on purpose below.";
  }
  return undefined;
}
