import { chmod, mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { type Static, Type } from "@sinclair/typebox";
import { TypeCompiler } from "@sinclair/typebox/compiler";

/** What `enroll` stores and `run` reads: where the API is, who this agent is, and its secret. */
const CredentialFileSchema = Type.Object({
  api: Type.String({ pattern: "^https?://" }),
  /** Other instances of the same API, tried in turn when the connection drops. */
  otherApis: Type.Optional(Type.Array(Type.String({ pattern: "^https?://" }), { maxItems: 16 })),
  credential: Type.String({ pattern: "^sba_[A-Za-z0-9_-]{43}$" }),
  switchId: Type.String({ minLength: 1, maxLength: 64 }),
  networkId: Type.String({ minLength: 1, maxLength: 64 }),
  baseDir: Type.String({ pattern: "^/" }),
  pin: Type.Optional(Type.Object({ certPem: Type.String(), fingerprint256: Type.String() })),
});
export type CredentialFile = Static<typeof CredentialFileSchema>;

const check = TypeCompiler.Compile(CredentialFileSchema);
export const CREDENTIAL_FILE = "agent.json";

/** Written 0600 from the first byte (temp file, then rename): it holds the credential. */
export async function saveCredential(stateDir: string, content: CredentialFile): Promise<string> {
  await mkdir(stateDir, { recursive: true, mode: 0o700 });
  const path = join(stateDir, CREDENTIAL_FILE);
  const temp = `${path}.${process.pid}.tmp`;
  await writeFile(temp, `${JSON.stringify(content, null, 2)}\n`, { mode: 0o600, flag: "w" });
  await chmod(temp, 0o600);
  await rename(temp, path);
  return path;
}

export async function loadCredential(stateDir: string): Promise<CredentialFile> {
  const path = join(stateDir, CREDENTIAL_FILE);
  let data: unknown;
  try {
    data = JSON.parse(await readFile(path, "utf8"));
  } catch (error) {
    throw new Error(`cannot read ${path} (${(error as Error).message}): run \`switchboard-agent enroll\` first`);
  }
  if (!check.Check(data)) {
    const first = check.Errors(data).First();
    throw new Error(`${path} is not a valid credential file (${first?.path ?? "/"}: ${first?.message ?? "invalid"})`);
  }
  return data;
}
