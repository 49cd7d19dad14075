import { checkNetwork, checkSwitchSet } from "@switchboard/shared";
import type { Tx } from "../../db/transactions.ts";
import type { Network as NetworkRow, Switch as SwitchRow } from "../../generated/prisma/client.ts";
import type { HttpError } from "../../http/error-handler.ts";
import { badRequest, conflict } from "../../http/errors.ts";
import { renderNetwork, renderSwitch } from "../configs/render-mapping.ts";
import { renderRule } from "../render-rules.ts";

/** Renderer field names of a switch that the API's body spells differently. */
const BODY_FIELD: Record<string, string> = { poolStart: "pool", poolEnd: "pool" };

/**
 * A written switch (inside the transaction, so a refusal rolls it back) with the other switches
 * of its network, through the renderers' own switch-set rules: addresses, pools, backbone ports
 * (network port + backbone offset must stay within 65535). What passes here is what the server
 * config and backbone renderers accept, so no network is left that cannot render.
 *
 * A rule broken by a value the request gave is a 400 naming it. Otherwise it is a 409: an
 * address the API chose that does not fit (`creating`), a stored value of this switch the request
 * left alone, another switch, or the network itself (data stored before a rule existed).
 */
export async function checkSetRenders(
  tx: Tx,
  network: NetworkRow,
  written: SwitchRow,
  request: { given: readonly string[]; creating: boolean },
): Promise<void> {
  const net = renderRule(
    () => checkNetwork(renderNetwork(network), "network"),
    (field, rule) => conflict(field, `${rule} (a stored value of the network: change it first)`),
  );
  const others = await tx.switch.findMany({
    where: { networkId: network.id, id: { not: written.id } },
    orderBy: { name: "asc" },
  });
  const all = [...others, written];
  renderRule(
    () => checkSwitchSet(net, all.map(renderSwitch), "switches"),
    (field, rule) => refusal(field, rule, all, request),
  );
}

function refusal(
  field: string,
  rule: string,
  all: readonly SwitchRow[],
  request: { given: readonly string[]; creating: boolean },
): HttpError {
  const [, index = "", property = ""] = /^switches\.(\d+)\.?([A-Za-z]*)/.exec(field) ?? [];
  const sw = all[Number(index)];
  if (sw === undefined || property === "") return conflict(field, rule);
  if (sw !== all.at(-1)) {
    return conflict(`switch ${sw.name}`, `${property} ${rule} (a stored value: fix that switch first)`);
  }
  const bodyField = `body.${BODY_FIELD[property] ?? property}`;
  if (request.given.includes(BODY_FIELD[property] ?? property)) return badRequest(bodyField, rule);
  return request.creating
    ? conflict(bodyField, `cannot be chosen: the free one ${rule}`)
    : conflict(bodyField, `${rule} (a stored value: change it as well)`);
}
