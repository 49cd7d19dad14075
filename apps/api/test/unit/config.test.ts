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
});
