import forge from "node-forge";
import { children, content, type DerElement, readElement, readRoot, slice, TAG } from "./der.ts";

/** The pieces of a certificate this module reads, each cut from the original DER. */
export interface CertificateParts {
  subjectDer: Buffer;
  spkiDer: Buffer;
  /** Extension OID -> extnValue contents (the DER inside the OCTET STRING). */
  extensions: Map<string, { critical: boolean; value: Buffer }>;
}

export const OID = {
  commonName: "2.5.4.3",
  subjectKeyIdentifier: "2.5.29.14",
  keyUsage: "2.5.29.15",
  basicConstraints: "2.5.29.19",
  extKeyUsage: "2.5.29.37",
  serverAuth: "1.3.6.1.5.5.7.3.1",
  clientAuth: "1.3.6.1.5.5.7.3.2",
} as const;

const SHORT_NAMES: Record<string, string> = {
  "2.5.4.3": "CN",
  "2.5.4.6": "C",
  "2.5.4.7": "L",
  "2.5.4.8": "ST",
  "2.5.4.10": "O",
  "2.5.4.11": "OU",
  "1.2.840.113549.1.9.1": "emailAddress",
};

export function oidOf(der: Uint8Array, element: DerElement): string {
  return forge.asn1.derToOid(content(der, element).toString("binary"));
}

/** Throws DerError on malformed input; callers turn that into a PkiError for their field. */
export function splitCertificate(der: Buffer): CertificateParts {
  const certificate = readRoot(der, TAG.sequence);
  const tbsElement = children(der, certificate)[0];
  if (!tbsElement) throw new Error("certificate without TBSCertificate");
  const tbs = children(der, tbsElement);
  // The [0] version is absent only in v1 certificates, which have no extensions either.
  const base = tbs[0]?.tag === 0xa0 ? 1 : 0;
  const subject = tbs[base + 4];
  const spki = tbs[base + 5];
  if (!subject || !spki) throw new Error("certificate is missing its subject or public key");
  const extensions = new Map<string, { critical: boolean; value: Buffer }>();
  const wrapper = tbs.find((element) => element.tag === 0xa3);
  if (wrapper) {
    const list = readElement(der, wrapper.contentStart, wrapper.end);
    for (const extension of children(der, list)) {
      const [id, second, third] = children(der, extension);
      if (!id || !second) continue;
      const critical = second.tag === 0x01 && der[second.contentStart] !== 0;
      const valueElement = second.tag === TAG.octetString ? second : third;
      if (!valueElement) continue;
      extensions.set(oidOf(der, id), { critical, value: content(der, valueElement) });
    }
  }
  return { subjectDer: slice(der, subject), spkiDer: slice(der, spki), extensions };
}

export interface NameAttribute {
  /** "CN", "O", ... or the dotted OID for types without a short name. */
  type: string;
  tag: number;
  /** Raw value bytes; decode according to `tag`. */
  value: Buffer;
}

/** Every attribute of a Name, in order, flattening multi-valued RDNs. */
export function nameAttributes(nameDer: Buffer): NameAttribute[] {
  const name = readRoot(nameDer, TAG.sequence);
  const attributes: NameAttribute[] = [];
  for (const rdn of children(nameDer, name)) {
    if (rdn.tag !== TAG.set) throw new Error("Name contains a non-SET RDN");
    for (const atv of children(nameDer, rdn)) {
      const [type, value] = children(nameDer, atv);
      if (!type || !value || type.tag !== TAG.oid) throw new Error("malformed AttributeTypeAndValue");
      const oid = oidOf(nameDer, type);
      attributes.push({ type: SHORT_NAMES[oid] ?? oid, tag: value.tag, value: content(nameDer, value) });
    }
  }
  return attributes;
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

/** Decodes the string types a CN can use in practice; undefined for anything else. */
export function decodeNameString(attribute: NameAttribute): string | undefined {
  switch (attribute.tag) {
    case TAG.utf8String:
      return utf8.decode(attribute.value);
    case TAG.printableString:
    case TAG.ia5String:
      return attribute.value.toString("latin1");
    default:
      return undefined;
  }
}

/** The CN of a certificate when its subject has one readable CN. */
export function commonNameOf(parts: CertificateParts): string | undefined {
  try {
    const cns = nameAttributes(parts.subjectDer).filter((a) => a.type === "CN");
    return cns.length === 1 && cns[0] ? decodeNameString(cns[0]) : undefined;
  } catch {
    return undefined;
  }
}

/** ExtendedKeyUsage purposes as OIDs; empty when the extension is absent. */
export function extendedKeyUsages(parts: CertificateParts): string[] {
  const extension = parts.extensions.get(OID.extKeyUsage);
  if (!extension) return [];
  const sequence = readRoot(extension.value, TAG.sequence);
  return children(extension.value, sequence).map((element) => oidOf(extension.value, element));
}

/** KeyUsage bits as one number (bit 0 = digitalSignature ... bit 8 = decipherOnly), or undefined. */
export function keyUsageBits(parts: CertificateParts): number | undefined {
  const extension = parts.extensions.get(OID.keyUsage);
  if (!extension) return undefined;
  const bits = content(extension.value, readRoot(extension.value, TAG.bitString));
  let value = 0;
  for (let bit = 0; bit < 9; bit++) {
    const byte = bits[1 + (bit >> 3)] ?? 0;
    if (byte & (0x80 >> (bit & 7))) value |= 1 << bit;
  }
  return value;
}

export const KEY_USAGE = { keyCertSign: 1 << 5, cRLSign: 1 << 6 } as const;
