import { readFile, writeFile } from "node:fs/promises";

const IP_FORWARD = "/proc/sys/net/ipv4/ip_forward";

/**
 * A switch routes packets between its tun device and the backbone links, so the kernel must
 * forward IPv4; without it hosts reach their own switch and nothing else. In managed mode the
 * agent owns the switch's networking and turns forwarding on; in external mode the operator's
 * system configuration owns it, so the agent only warns.
 */
export async function ensureIpForwarding(
  mode: "managed" | "external",
  log: { info(message: string): void; warn(message: string): void },
  path = IP_FORWARD,
): Promise<boolean> {
  let current: string;
  try {
    current = (await readFile(path, "utf8")).trim();
  } catch (error) {
    log.warn(`cannot read ${path}: ${(error as Error).message}`);
    return false;
  }
  if (current === "1") return true;
  if (mode === "external") {
    log.warn("IPv4 forwarding is off: hosts on other switches are unreachable (sysctl -w net.ipv4.ip_forward=1)");
    return false;
  }
  try {
    await writeFile(path, "1\n");
    log.info("turned on IPv4 forwarding (net.ipv4.ip_forward=1)");
    return true;
  } catch (error) {
    log.warn(`cannot turn on IPv4 forwarding: ${(error as Error).message}`);
    return false;
  }
}
