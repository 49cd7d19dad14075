import type { Certificate } from "@switchboard/shared";
import { useCallback, useMemo } from "react";
import { useHosts } from "../hosts/queries.ts";
import { indexById, useNetworks } from "../networks/queries.ts";
import { useSwitches } from "../switches/queries.ts";

const KIND_NAMES: Record<Certificate["kind"], string> = {
  ca: "CA",
  server: "switch",
  backbone: "backbone of switch",
  client: "host",
};

/**
 * Who holds a certificate, in the names people gave: "switch plant-1 · plant", "host press-1 ·
 * plant", "CA · plant". Switch certificates' common names are `server.<uuid>`, which says
 * nothing to a person; a holder since deleted keeps its common name.
 */
export function useHolderNames(): (cert: Certificate) => string {
  const hosts = useHosts().data;
  const switches = useSwitches().data;
  const networks = useNetworks().data;
  const hostById = useMemo(() => indexById(hosts), [hosts]);
  const switchById = useMemo(() => indexById(switches), [switches]);
  const networkById = useMemo(() => indexById(networks), [networks]);
  return useCallback(
    (cert: Certificate) => {
      const network = networkById.get(cert.networkId)?.name ?? "deleted network";
      const name =
        (cert.hostId ? hostById.get(cert.hostId)?.commonName : undefined) ??
        (cert.switchId ? switchById.get(cert.switchId)?.name : undefined);
      if (cert.kind === "ca") return `CA · ${network}`;
      return `${KIND_NAMES[cert.kind]} ${name ?? cert.commonName} · ${network}`;
    },
    [hostById, switchById, networkById],
  );
}
