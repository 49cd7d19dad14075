import type { ReadinessResponse } from "@switchboard/shared";
import { useEffect, useState } from "react";
import { SetupPage } from "./setup-page.tsx";

/** Placeholder until the console issue lands: shows that the API and its database answer. */
export function App() {
  const [readiness, setReadiness] = useState<ReadinessResponse | "error" | undefined>();
  useEffect(() => {
    fetch("/readyz")
      .then((response) => response.json() as Promise<ReadinessResponse>)
      .then(setReadiness, () => setReadiness("error"));
  }, []);
  return (
    <main style={{ fontFamily: "system-ui, sans-serif", maxWidth: 640, margin: "4rem auto", padding: "0 1rem" }}>
      <h1>Switchboard</h1>
      <p>One private network across your hosting providers, on OpenVPN.</p>
      <p data-testid="api-status">
        API:{" "}
        {readiness === undefined
          ? "checking…"
          : readiness === "error"
            ? "not reachable"
            : `${readiness.status} (${readiness.database.kind} database)`}
      </p>
      {window.location.pathname === "/setup" && <SetupPage />}
      <p>
        <a href="/api/docs">REST API documentation</a>
      </p>
    </main>
  );
}
