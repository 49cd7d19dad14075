import type { RenderPaths } from "./model.ts";
import * as v from "./validate.ts";

/**
 * The layout of a switch's directory for one network. Every path is absolute because OpenVPN
 * re-reads them on SIGHUP after `--daemon` has changed directory to `/`.
 */
export function switchPaths(baseDir: string): RenderPaths {
  const base = v.absolutePath("paths.baseDir", baseDir);
  return {
    baseDir: base,
    serverConfig: `${base}/server.conf`,
    caCert: `${base}/ca.crt`,
    serverCert: `${base}/server.crt`,
    serverKey: `${base}/server.key`,
    backboneCert: `${base}/backbone.crt`,
    backboneKey: `${base}/backbone.key`,
    crl: `${base}/crl.pem`,
    tlsCryptKey: `${base}/tls-crypt.key`,
    backboneTlsCryptKey: `${base}/backbone-tls-crypt.key`,
    ccdDir: `${base}/ccd`,
    managementSocket: `${base}/server.sock`,
    statusFile: `${base}/status.log`,
    hookCommand: `${base}/client-hook`,
  };
}

/** Config and management socket of the link towards the peer at `peerOffset` (see naming.ts). */
export function backboneLinkPaths(
  paths: Pick<RenderPaths, "baseDir">,
  peerOffset: number,
): { readonly config: string; readonly managementSocket: string } {
  const base = v.absolutePath("paths.baseDir", paths.baseDir);
  const offset = v.integer("peerOffset", peerOffset, 1, 65534);
  return { config: `${base}/backbone-${offset}.conf`, managementSocket: `${base}/backbone-${offset}.sock` };
}
