/** All of stdin as text, at most `limit` bytes (a secret piped in, not a file streamed through). */
export async function readStdin(limit = 4096): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of process.stdin) {
    const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
    size += buffer.length;
    if (size > limit) throw new Error(`stdin holds more than ${limit} bytes`);
    chunks.push(buffer);
  }
  return Buffer.concat(chunks).toString("utf8");
}

/** The first line of stdin without its line ending: `echo secret | switchboard ...` works. */
export async function readStdinLine(what: string): Promise<string> {
  const text = await readStdin().catch((error: Error) => {
    throw new Error(`${what}: ${error.message}`);
  });
  return text.split(/\r?\n/)[0] ?? "";
}
