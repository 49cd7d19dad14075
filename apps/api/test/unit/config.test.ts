import { describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config.ts";
import { StartupError } from "../../src/startup-error.ts";

const cwd = "/srv/switchboard";

function problemsOf(env: Record<string, string>): string {
  try {
    loadConfig(env, cwd);
  } catch (error) {
    expect(error).toBeInstanceOf(StartupError);
    return (error as Error).message;
  }
  throw new Error("expected a configuration error");
}

describe("configuration from the environment", () => {
  it("gives a newcomer the embedded database in ./data on 127.0.0.1:8080", () => {
    expect(loadConfig({}, cwd)).toMatchObject({
      port: 8080,
      host: "127.0.0.1",
      databaseUrl: undefined,
      dataDir: "/srv/switchboard/data",
      logLevel: "info",
    });
  });

  it("reads every setting", () => {
    const config = loadConfig(
      {
        PORT: "9000",
        HOST: "0.0.0.0",
        DATABASE_URL: "postgresql://sb:secret@db.example:5433/switchboard",
        DATA_DIR: "state",
        LOG_LEVEL: "debug",
      },
      cwd,
    );
    expect(config).toMatchObject({
      port: 9000,
      host: "0.0.0.0",
      databaseUrl: "postgresql://sb:secret@db.example:5433/switchboard",
      dataDir: "/srv/switchboard/state",
      logLevel: "debug",
    });
  });

  it.each([
    [{ PORT: "http" }, 'PORT must be a whole number from 0 to 65535 (got "http")'],
    [{ PORT: "70000" }, "PORT must be a whole number from 0 to 65535"],
    [{ PORT: "-1" }, "PORT must be a whole number from 0 to 65535"],
    [{ HOST: "bad host;rm" }, "HOST must be a host name or an IP address"],
    [{ DATABASE_URL: "not a url" }, "DATABASE_URL must be a URL like postgresql://"],
    [{ DATABASE_URL: "mysql://db/switchboard" }, "DATABASE_URL must start with postgresql://"],
    [{ DATABASE_URL: "postgresql://db.example:5432" }, "DATABASE_URL must name a database"],
    [{ LOG_LEVEL: "loud" }, "LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent"],
    [{ SHUTDOWN_TIMEOUT_MS: "5" }, "SHUTDOWN_TIMEOUT_MS must be a whole number of milliseconds >= 100"],
    [{ TLS: "yes" }, "TLS must be one of auto, on, off"],
    [{ TLS_CERT: "cert.pem" }, "TLS_CERT and TLS_KEY go together"],
    [{ TLS_KEY: "key.pem" }, "TLS_CERT and TLS_KEY go together"],
    [{ TLS: "off", TLS_CERT: "c.pem", TLS_KEY: "k.pem" }, "TLS=off contradicts TLS_CERT/TLS_KEY"],
    [
      { TRUST_PROXY: "10.0.0.1, everyone" },
      'TRUST_PROXY must be a comma-separated list of proxy addresses, CIDRs or loopback/linklocal/uniquelocal ("everyone" is none)',
    ],
    [{ TRUST_PROXY: "10.0.0.0/33" }, "TRUST_PROXY must be a comma-separated list"],
    [{ PUBLIC_URL: "vpn.example.net" }, "PUBLIC_URL must be a URL like https://vpn.example.net"],
    [{ PUBLIC_URL: "ftp://vpn.example.net" }, "PUBLIC_URL must start with https://"],
    [{ PUBLIC_URL: "https://vpn.example.net/switchboard" }, "PUBLIC_URL must be scheme, host and port only"],
  ])("refuses %o naming the variable and the rule", (env, expected) => {
    expect(problemsOf(env)).toContain(expected);
  });

  it("reports every bad variable at once", () => {
    const message = problemsOf({ PORT: "x", LOG_LEVEL: "y" });
    expect(message).toContain("PORT must");
    expect(message).toContain("LOG_LEVEL must");
  });

  it("never echoes a database password in an error", () => {
    expect(problemsOf({ DATABASE_URL: "mysql://u:hunter2@db/x" })).not.toContain("hunter2");
  });

  it("reads TLS, proxy and public address settings", () => {
    expect(
      loadConfig(
        {
          TLS: "on",
          TLS_CERT: "tls/cert.pem",
          TLS_KEY: "/etc/switchboard/key.pem",
          TRUST_PROXY: "10.0.0.1, 192.168.0.0/16,loopback, fd00::/8",
          PUBLIC_URL: "https://vpn.example.net:8443/",
        },
        cwd,
      ),
    ).toMatchObject({
      tls: "on",
      tlsCertFile: "/srv/switchboard/tls/cert.pem",
      tlsKeyFile: "/etc/switchboard/key.pem",
      trustProxy: ["10.0.0.1", "192.168.0.0/16", "loopback", "fd00::/8"],
      publicUrl: "https://vpn.example.net:8443",
    });
    expect(loadConfig({}, cwd)).toMatchObject({ tls: "auto", trustProxy: undefined, publicUrl: undefined });
  });

  it("reads the prefix floors of host routes: /8 for everyone and /16 for operators unless told", () => {
    expect(loadConfig({}, cwd).hostRoutes).toEqual({ minPrefix: 8, operatorMinPrefix: 16 });
    expect(loadConfig({ HOST_SUBNET_MIN_PREFIX: "12", HOST_SUBNET_OPERATOR_MIN_PREFIX: "20" }, cwd).hostRoutes).toEqual(
      { minPrefix: 12, operatorMinPrefix: 20 },
    );
    expect(problemsOf({ HOST_SUBNET_MIN_PREFIX: "0" })).toContain(
      "HOST_SUBNET_MIN_PREFIX must be a prefix length from 1 to 32",
    );
    expect(problemsOf({ HOST_SUBNET_MIN_PREFIX: "20", HOST_SUBNET_OPERATOR_MIN_PREFIX: "16" })).toContain(
      "HOST_SUBNET_OPERATOR_MIN_PREFIX must not be shorter than HOST_SUBNET_MIN_PREFIX (/16 < /20)",
    );
  });
});
