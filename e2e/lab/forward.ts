import { rmSync, writeFileSync } from "node:fs";
import { createConnection, createServer, type Socket } from "node:net";

/**
 * A byte pipe between two socket addresses, `tcp:HOST:PORT` or `unix:/path`. The lab runs two:
 * one inside the control namespace (unix socket -> the API's TCP port there) and one in the
 * machine's root namespace (127.0.0.1:PORT -> that unix socket). Unix sockets are files, not
 * bound to a network namespace, so this lets a person's browser on the machine reach the API
 * inside the lab without giving the lab an address outside its own namespaces.
 *
 * usage: forward.ts LISTEN TARGET [PORT_FILE]  (PORT_FILE gets the TCP port actually bound)
 */

type Address = { kind: "tcp"; host: string; port: number } | { kind: "unix"; path: string };

function parse(text: string | undefined): Address {
  const tcp = /^tcp:([0-9.]+):(\d{1,5})$/.exec(text ?? "");
  if (tcp) return { kind: "tcp", host: tcp[1] as string, port: Number(tcp[2]) };
  const unix = /^unix:(\/.+)$/.exec(text ?? "");
  if (unix) return { kind: "unix", path: unix[1] as string };
  throw new Error(`not an address: ${text} (tcp:HOST:PORT or unix:/path)`);
}

const [listenText, targetText, portFile] = process.argv.slice(2);
const listen = parse(listenText);
const target = parse(targetText);

function connectTarget(): Socket {
  return target.kind === "tcp" ? createConnection(target.port, target.host) : createConnection(target.path);
}

const server = createServer((client) => {
  const upstream = connectTarget();
  client.pipe(upstream).pipe(client);
  const close = () => {
    client.destroy();
    upstream.destroy();
  };
  client.on("error", close);
  upstream.on("error", close);
});

server.on("listening", () => {
  const bound = server.address();
  if (portFile && bound && typeof bound === "object") writeFileSync(portFile, String(bound.port));
});
if (listen.kind === "tcp") server.listen(listen.port, listen.host);
else {
  rmSync(listen.path, { force: true });
  server.listen(listen.path);
}
for (const signal of ["SIGTERM", "SIGINT"] as const) process.once(signal, () => server.close(() => process.exit(0)));
