/**
 * A canonical dotted quad ("10.0.0.1": four decimal octets up to 255, no leading zeros, as
 * the shared parseIpv4 accepts) in text[start, end), or -1. By hand because the shared parser
 * (ip-address) costs ~30 µs a call on the CI machine, 0.4 s for a 10,000-route snapshot; the
 * two are compared in route-diff.test.ts. Also for `ip -json route show`, read on every
 * periodic reconcile.
 */
export function dottedQuad(text: string, start: number, end: number): number {
  let address = 0;
  let octet = 0;
  let digits = 0;
  let dots = 0;
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      if (digits === 1 && octet === 0) return -1;
      octet = octet * 10 + (c - 48);
      digits += 1;
      if (octet > 255) return -1;
    } else if (c === 46 && digits > 0 && dots < 3) {
      address = address * 256 + octet;
      octet = 0;
      digits = 0;
      dots += 1;
    } else {
      return -1;
    }
  }
  if (dots !== 3 || digits === 0) return -1;
  return address * 256 + octet;
}

/** The prefix length after "/" (text[start...]): 0-32 written without leading zeros, or -1. */
export function prefixLength(text: string, start: number): number {
  const rest = text.slice(start);
  return /^(0|[1-9][0-9]?)$/.test(rest) && Number(rest) <= 32 ? Number(rest) : -1;
}
