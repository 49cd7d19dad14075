import { type QueryKey, useQueryClient } from "@tanstack/react-query";
import { useEffect } from "react";
import { applyLiveMessage, liveKeys } from "./live-cache.ts";
import { LiveSocket, liveUrl } from "./live-socket.ts";

/** Keeps one live socket open while signed in and feeds every message into the query cache. */
export function useLiveFeed(enabled: boolean) {
  const client = useQueryClient();
  useEffect(() => {
    if (!enabled) return;
    // Invalidations are batched over a short tick: an import or a burst of changes is one refetch.
    const pending = new Map<string, QueryKey>();
    let flush: ReturnType<typeof setTimeout> | undefined;
    const invalidate = (keys: QueryKey[]) => {
      for (const key of keys) pending.set(JSON.stringify(key), key);
      flush ??= setTimeout(() => {
        flush = undefined;
        const keys = [...pending.values()];
        pending.clear();
        for (const queryKey of keys) void client.invalidateQueries({ queryKey });
      }, 150);
    };
    let eventKey = 0;
    const socket = new LiveSocket({
      url: liveUrl(),
      onStatus: (status) => client.setQueryData(liveKeys.status, status),
      onWelcome: (reconnected) => {
        // After a drop anything may have been missed: refetch everything. On the first welcome,
        // what the socket feeds may have changed between the pages' first fetch and now.
        if (reconnected) void client.invalidateQueries({ predicate: (q) => q.queryKey[0] !== "live" });
        else invalidate([["sessions"], ["agents"]]);
      },
      onMessage: (message) => applyLiveMessage(client, message, invalidate, () => ++eventKey),
    });
    socket.start();
    const retry = () => {
      if (document.visibilityState === "visible") socket.retryNow();
    };
    window.addEventListener("online", retry);
    window.addEventListener("focus", retry);
    document.addEventListener("visibilitychange", retry);
    return () => {
      window.removeEventListener("online", retry);
      window.removeEventListener("focus", retry);
      document.removeEventListener("visibilitychange", retry);
      socket.stop();
      clearTimeout(flush);
    };
  }, [enabled, client]);
}
