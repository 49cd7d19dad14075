import { parseSubnet, type Subnet4 } from "@switchboard/shared";
import { badRequest } from "../http/errors.ts";

/** Parses a CIDR field or throws a 400 naming it; `prefix` bounds how large or small it may be. */
export function requireSubnet(field: string, cidr: string, prefix = { min: 0, max: 32 }): Subnet4 {
  const subnet = parseSubnet(cidr);
  if (typeof subnet === "string") throw badRequest(field, subnet);
  if (subnet.prefix < prefix.min || subnet.prefix > prefix.max) {
    throw badRequest(field, `must have a prefix length from /${prefix.min} to /${prefix.max} (got /${subnet.prefix})`);
  }
  return subnet;
}
