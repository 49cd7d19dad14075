import { existsSync } from "node:fs";
import { hostname, networkInterfaces } from "node:os";
import { fileURLToPath } from "node:url";
import closeWithGrace from "close-with-grace";
import { buildApp } from "../app.ts";
import { newSecret } from "../auth/secrets.ts";
import { type Config, describeDatabaseUrl, loadConfig } from "../config.ts";
import { ensureDataDir } from "../db/data-dir-lock.ts";
import { type DatabaseTarget, openDatabase } from "../db/database.ts";
import { DEFAULT_PKI } from "../features/pki/pki-settings.ts";
import { loadOrCreateMasterKey, PkiError } from "../pki/index.ts";
import { errorCode, StartupError } from "../startup-error.ts";
import { isLoopbackHost, resolveServerTls } from "../tls/server-tls.ts";

import { loggerOptions } from "./logging.ts";

const BUILT_CONSOLE = fileURLToPath(new URL("../../../web/dist", import.meta.url));

/** `switchboard serve`: the API and console until a signal stops it. Throws StartupError for what the operator can fix. */
export async function serve(): Promise<void> {
  // Every file this process makes (database, keys, logs it writes itself) is for its own user only.
  process.umask(0o077);
  const config = loadConfig();
  const target: DatabaseTarget = config.databaseUrl
    ? { kind: "postgres", url: config.databaseUrl }
    : { kind: "pglite", dataDir: config.dataDir };
  ensureDataDir(config.dataDir);
  const masterKey = await loadOrCreateMasterKey({ envValue: config.masterKey, dataDir: config.dataDir }).catch(
    (error) => {
      throw error instanceof PkiError ? new StartupError(`master key: ${error.message}`) : error;
    },
  );
  const tls = await resolveServerTls(config);
  const db = await openDatabase(target);
  // No user yet: a one-time token lets whoever started the server create the first administrator.
  const setupToken = (await db.prisma.user.count()) === 0 ? newSecret() : undefined;
  const app = await buildApp({
    ...(setupToken ? { setupToken } : {}),
    db,
    pki: {
      masterKey: masterKey.key,
      caKeyType: config.caKeyType,
      leafKeyType: config.leafKeyType,
      caValidityDays: DEFAULT_PKI.caValidityDays,
      leafValidityDays: config.certValidityDays,
      maxValidityDays: config.certMaxValidityDays,
      crlValidityDays: config.crlValidityDays,
    },
    logger: loggerOptions(config.logLevel),
    webDir: config.webDir ?? (existsSync(BUILT_CONSOLE) ? BUILT_CONSOLE : undefined),
    closeDatabaseOnClose: true,
    backgroundJobs: true,
    transport: {
      ...(tls ? { tls } : {}),
      ...(config.publicUrl ? { publicUrl: config.publicUrl } : {}),
      ...(config.trustProxy ? { trustProxy: config.trustProxy } : {}),
    },
    hostRoutes: config.hostRoutes,
  });
  app.log.info({ applied: db.migrations.applied, alreadyApplied: db.migrations.alreadyApplied }, "database migrated");
  if (masterKey.source === "created") {
    app.log.warn({ path: masterKey.path }, "created a new master key: back it up, every private key is sealed with it");
  }

  closeWithGrace({ delay: config.shutdownTimeoutMs }, async ({ signal, err }) => {
    if (err) app.log.error({ err }, "shutting down after an error");
    else app.log.info({ signal }, "shutting down");
    await app.close();
  });

  try {
    await app.listen({ port: config.port, host: config.host });
  } catch (error) {
    await app.close();
    throw listenError(error, config);
  }
  const address = app.server.address();
  const port = typeof address === "object" && address ? address.port : config.port;
  const database = config.databaseUrl
    ? `PostgreSQL at ${describeDatabaseUrl(config.databaseUrl)}`
    : `embedded database in ${config.dataDir}`;
  // Plain lines for people; the JSON log lines are for machines.
  const url = config.publicUrl ? `${config.publicUrl}/` : listenUrl(config.host, port, tls !== undefined);
  if (tls) {
    const made = tls.source === "created" ? "created a self-signed certificate" : "certificate";
    process.stdout.write(
      `TLS: ${made} ${tls.certPath}, SHA-256 fingerprint ${tls.fingerprint256} (${
        tls.selfSigned
          ? `agents: enroll --fingerprint ${tls.fingerprint256}`
          : "signed by an authority: agents need no pin"
      })\n`,
    );
  } else if (!isLoopbackHost(config.host)) {
    app.log.warn("TLS=off on a non-loopback address: only safe behind a TLS proxy that forwards to this one");
    process.stdout.write(
      "TLS: off (plain HTTP): put a TLS proxy in front and set PUBLIC_URL to its https:// address\n",
    );
  }
  // After the TLS line: whoever waits for "is up" finds the fingerprint already printed.
  process.stdout.write(`Switchboard is up: ${url} (${database})\n`);
  if (setupToken) {
    process.stdout.write(
      `No administrator yet: open ${url}setup#token=${setupToken} to create one (the link works once)\n`,
    );
  }
}

/** Where this machine answers: the listen address, or for a wildcard one of its own addresses (never localhost). */
function listenUrl(host: string, port: number, https: boolean): string {
  const wildcard = host === "0.0.0.0" || host === "::";
  const shown = wildcard ? (firstExternalAddress() ?? hostname()) : host;
  return `${https ? "https" : "http"}://${shown.includes(":") ? `[${shown}]` : shown}:${port}/`;
}

function firstExternalAddress(): string | undefined {
  const addresses = Object.values(networkInterfaces()).flatMap((list) => list ?? []);
  return addresses.find((address) => !address.internal && address.family === "IPv4")?.address;
}

function listenError(error: unknown, config: Config): Error {
  const code = errorCode(error);
  if (code === "EADDRINUSE") {
    return new StartupError(
      `port ${config.port} on ${config.host} is already in use: stop the other process or set PORT`,
    );
  }
  if (code === "EACCES") {
    return new StartupError(
      `not allowed to listen on port ${config.port}: use a port above 1023 or run with the right privilege`,
    );
  }
  if (code === "EADDRNOTAVAIL" || code === "ENOTFOUND") {
    return new StartupError(`cannot listen on HOST ${config.host}: it is not an address of this machine`);
  }
  return error instanceof Error ? error : new Error(String(error));
}
