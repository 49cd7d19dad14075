import { overlaps, parseSubnet, type Subnet4 } from "@switchboard/shared";
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

/** Each CIDR of a list field must be canonical, and none may overlap `avoid` (the data subnet...). */
export function requireRoutes(
  field: string,
  cidrs: readonly string[],
  avoid: { subnet: Subnet4; what: string }[] = [],
) {
  return cidrs.map((cidr, index) => {
    const subnet = requireSubnet(`${field}.${index}`, cidr);
    for (const other of avoid) {
      if (overlaps(subnet, other.subnet))
        throw badRequest(`${field}.${index}`, `overlaps the ${other.what} ${other.subnet.cidr}`);
    }
    return subnet;
  });
}
