/**
 * Just enough DER to slice certificates and CSRs into their parts. forge re-encodes what it
 * parses, but a signature covers the exact bytes that were signed, so the parts we verify or
 * copy (a CSR's request info, the CA's subject name) are cut out of the input byte for byte.
 */

export const TAG = {
  integer: 0x02,
  bitString: 0x03,
  octetString: 0x04,
  oid: 0x06,
  utf8String: 0x0c,
  printableString: 0x13,
  ia5String: 0x16,
  sequence: 0x30,
  set: 0x31,
} as const;

export interface DerElement {
  tag: number;
  /** Offset of the tag byte. */
  start: number;
  contentStart: number;
  /** Offset just past the content. */
  end: number;
}

export class DerError extends Error {
  override name = "DerError";
}

/** Reads one element at `offset`; refuses indefinite lengths and anything that overruns `limit`. */
export function readElement(der: Uint8Array, offset = 0, limit = der.length): DerElement {
  if (offset + 2 > limit) throw new DerError("truncated element");
  const tag = der[offset] as number;
  // Multi-byte tags never occur in X.509 or PKCS#10.
  if ((tag & 0x1f) === 0x1f) throw new DerError("unsupported high tag number");
  const first = der[offset + 1] as number;
  let length = first;
  let contentStart = offset + 2;
  if (first & 0x80) {
    const octets = first & 0x7f;
    if (octets === 0 || octets > 4) throw new DerError("unsupported length encoding");
    if (contentStart + octets > limit) throw new DerError("truncated length");
    length = 0;
    for (let i = 0; i < octets; i++) length = length * 256 + (der[contentStart + i] as number);
    contentStart += octets;
  }
  const end = contentStart + length;
  if (end > limit) throw new DerError("element runs past its container");
  return { tag, start: offset, contentStart, end };
}

/** The elements directly inside a constructed element. */
export function children(der: Uint8Array, parent: DerElement): DerElement[] {
  const out: DerElement[] = [];
  let offset = parent.contentStart;
  while (offset < parent.end) {
    const child = readElement(der, offset, parent.end);
    out.push(child);
    offset = child.end;
  }
  return out;
}

/** Reads a whole DER document that must be exactly one element of the given tag. */
export function readRoot(der: Uint8Array, tag: number): DerElement {
  const root = readElement(der);
  if (root.tag !== tag) throw new DerError(`expected tag 0x${tag.toString(16)}, found 0x${root.tag.toString(16)}`);
  if (root.end !== der.length) throw new DerError("trailing bytes after the structure");
  return root;
}

export function slice(der: Uint8Array, element: DerElement): Buffer {
  return Buffer.from(der.subarray(element.start, element.end));
}

export function content(der: Uint8Array, element: DerElement): Buffer {
  return Buffer.from(der.subarray(element.contentStart, element.end));
}

export function encodeTlv(tag: number, body: Uint8Array): Buffer {
  const n = body.length;
  let header: number[];
  if (n < 0x80) header = [tag, n];
  else if (n < 0x100) header = [tag, 0x81, n];
  else if (n < 0x10000) header = [tag, 0x82, n >> 8, n & 0xff];
  else header = [tag, 0x83, n >> 16, (n >> 8) & 0xff, n & 0xff];
  return Buffer.concat([Buffer.from(header), body]);
}

/** A positive INTEGER from its magnitude (a 0x00 is prefixed when the high bit is set). */
export function encodePositiveInteger(magnitude: Buffer): Buffer {
  const first = magnitude[0] ?? 0;
  const body = magnitude.length === 0 || first & 0x80 ? Buffer.concat([Buffer.from([0]), magnitude]) : magnitude;
  return encodeTlv(TAG.integer, body);
}

/** Certificate or CertificateList: the signed part, its algorithm and the signature bits. */
export function encodeSigned(tbs: Buffer, algorithmIdentifier: Buffer, signature: Buffer): Buffer {
  const bits = encodeTlv(TAG.bitString, Buffer.concat([Buffer.from([0]), signature]));
  return encodeTlv(TAG.sequence, Buffer.concat([tbs, algorithmIdentifier, bits]));
}

export function toPem(label: string, der: Buffer): string {
  const lines = der.toString("base64").match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join("\n")}\n-----END ${label}-----\n`;
}

/**
 * The DER inside exactly one PEM block with one of the given labels. Returns a reason string
 * instead of throwing so callers can put it under their own field name.
 */
export function fromPem(text: string, labels: readonly string[]): Buffer | string {
  const blocks = [...text.matchAll(/-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END \1-----/g)];
  if (blocks.length === 0) return `is not PEM (expected -----BEGIN ${labels[0]}-----)`;
  if (blocks.length > 1) return `contains ${blocks.length} PEM blocks; expected exactly one`;
  const [, label = "", body = ""] = blocks[0] as RegExpMatchArray;
  if (!labels.includes(label)) return `is a PEM "${label}", expected ${labels.map((l) => `"${l}"`).join(" or ")}`;
  const base64 = body.replace(/\s+/g, "");
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(base64) || base64.length % 4 !== 0)
    return "has invalid base64 inside its PEM block";
  return Buffer.from(base64, "base64");
}
