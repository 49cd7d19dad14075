/**
 * A minimal POSIX ustar writer and reader: regular files only, names under 100 bytes. Enough for a
 * backup archive that `tar tzf` can list and unpack, without a dependency for 60 lines of format.
 */
const BLOCK = 512;

export interface TarEntry {
  name: string;
  data: Buffer;
}

function octal(value: number, width: number): string {
  return `${value.toString(8).padStart(width - 1, "0")}\0`;
}

function header(name: string, size: number, mtime: number): Buffer {
  const block = Buffer.alloc(BLOCK);
  const nameBytes = Buffer.from(name, "utf8");
  if (nameBytes.length >= 100) throw new Error(`tar: entry name ${name} is longer than 99 bytes`);
  nameBytes.copy(block, 0);
  block.write(octal(0o600, 8), 100, "ascii");
  block.write(octal(0, 8), 108, "ascii");
  block.write(octal(0, 8), 116, "ascii");
  block.write(octal(size, 12), 124, "ascii");
  block.write(octal(Math.floor(mtime / 1000), 12), 136, "ascii");
  block.write("        ", 148, "ascii");
  block.write("0", 156, "ascii");
  block.write("ustar\u000000", 257, "ascii");
  let sum = 0;
  for (const byte of block) sum += byte;
  block.write(`${sum.toString(8).padStart(6, "0")}\0 `, 148, "ascii");
  return block;
}

function padding(size: number): Buffer {
  return Buffer.alloc((BLOCK - (size % BLOCK)) % BLOCK);
}

export function writeTar(entries: TarEntry[], mtime = Date.now()): Buffer {
  const parts: Buffer[] = [];
  for (const entry of entries)
    parts.push(header(entry.name, entry.data.length, mtime), entry.data, padding(entry.data.length));
  parts.push(Buffer.alloc(BLOCK * 2));
  return Buffer.concat(parts);
}

function field(block: Buffer, start: number, length: number): string {
  const raw = block.subarray(start, start + length);
  const end = raw.indexOf(0);
  return raw.subarray(0, end === -1 ? length : end).toString("utf8");
}

/** Reads what writeTar wrote; anything else (links, devices, a bad header checksum) is refused. */
export function readTar(archive: Buffer): TarEntry[] {
  const entries: TarEntry[] = [];
  let offset = 0;
  while (offset + BLOCK <= archive.length) {
    const block = archive.subarray(offset, offset + BLOCK);
    if (block.every((byte) => byte === 0)) return entries;
    let sum = 0;
    for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : (block[i] as number);
    if (Number.parseInt(field(block, 148, 8).trim(), 8) !== sum)
      throw new Error(`tar: header at byte ${offset} is damaged`);
    const type = field(block, 156, 1);
    if (type !== "0" && type !== "") throw new Error(`tar: entry at byte ${offset} is not a regular file`);
    const size = Number.parseInt(field(block, 124, 12).trim(), 8);
    if (!Number.isSafeInteger(size) || size < 0 || offset + BLOCK + size > archive.length) {
      throw new Error(`tar: entry at byte ${offset} runs past the end of the archive`);
    }
    const name = field(block, 0, 100);
    entries.push({ name, data: Buffer.from(archive.subarray(offset + BLOCK, offset + BLOCK + size)) });
    offset += BLOCK + size + padding(size).length;
  }
  throw new Error("tar: the archive ends without its end marker (cut short?)");
}
