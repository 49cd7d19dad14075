/**
 * The client-connect / client-disconnect program OpenVPN runs (script-security 2).
 *
 * OpenVPN runs it synchronously: while it runs, the whole server waits, so it must return within
 * milliseconds, and it must never fail or hang, or the connection is refused (connect) or the
 * server stalls. It therefore only hands a line to the agent and always exits 0.
 *
 * Measured on this machine (`pnpm bench:hook` prints it, with percentiles and lost lines):
 *   (a) a minimal plain-JS Node script writing one line to a unix socket: median ~33 ms per event,
 *       all of it Node start-up (a TypeScript hook through tsx would be several times slower);
 *   (b) this POSIX sh script writing to a FIFO with dd: median ~2 ms per event.
 * So (b). Why a FIFO rather than a unix socket: sh cannot open a socket without socat or
 * python, which a switch may not have; a FIFO needs only sh and dd (coreutils). Why dd:
 * `oflag=nonblock` opens the FIFO with O_NONBLOCK, so with the agent down (no reader) the open
 * fails at once with ENXIO instead of blocking forever, and with the agent alive but its pipe
 * full the write fails with EAGAIN instead of blocking: the hook can never stall OpenVPN. One
 * write of less than PIPE_BUF (4096) bytes is atomic, so lines of concurrent writers never mix.
 * `[ -p ]` first, because dd would otherwise create a regular file where the FIFO should be.
 * Events lost while the agent is down are recovered by the status 3 reconcile.
 */
export function renderHookScript(fifoPath: string): string {
  if (!/^(?:\/[A-Za-z0-9._-]+)+$/.test(fifoPath))
    throw new Error(`hook FIFO path must be absolute and plain: ${fifoPath}`);
  return `#!/bin/sh
# Switchboard client hook: tells the agent about a connect or disconnect. Installed by the agent.
# Never fails and never blocks: OpenVPN waits for this program, and must not when the agent is down.
PATH=/usr/sbin:/usr/bin:/sbin:/bin
fifo='${fifoPath}'
if [ -p "$fifo" ]; then
  printf 'sb1\\t%s\\t%s\\t%s\\t%s\\t%s\\t%s\\t%s\\t%s\\t%s\\t%s\\n' \\
    "$script_type" "$time_unix" "$common_name" "\${trusted_ip:-$untrusted_ip}" "\${trusted_port:-$untrusted_port}" \\
    "$ifconfig_pool_remote_ip" "$bytes_received" "$bytes_sent" "$time_duration" "$dev" |
    dd of="$fifo" oflag=nonblock conv=notrunc iflag=fullblock bs=4096 count=1 status=none 2>/dev/null
fi
exit 0
`;
}
