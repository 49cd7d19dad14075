import type { ErrorResponse, LoginSession } from "@switchboard/shared";
import { type FormEvent, useState } from "react";

/**
 * First start: the server prints /setup#token=...; the token stays in the URL fragment so it
 * never reaches a server log or a Referer header. Creates the first administrator.
 */
export function SetupPage() {
  const token = new URLSearchParams(window.location.hash.slice(1)).get("token") ?? "";
  const [username, setUsername] = useState("admin");
  const [password, setPassword] = useState("");
  const [error, setError] = useState<string>();
  const [done, setDone] = useState<LoginSession>();

  async function submit(event: FormEvent) {
    event.preventDefault();
    setError(undefined);
    const response = await fetch("/api/setup", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ token, username, password }),
    });
    if (response.ok) {
      setDone((await response.json()) as LoginSession);
      window.history.replaceState(null, "", "/");
    } else {
      setError(((await response.json()) as ErrorResponse).message);
    }
  }

  if (!token) return <p>This page needs the one-time link that Switchboard printed when it started.</p>;
  if (done) return <p role="status">Administrator {done.user.username} created; you are signed in.</p>;
  return (
    <form onSubmit={submit} style={{ display: "grid", gap: "0.75rem", maxWidth: 360 }}>
      <h2>Create the first administrator</h2>
      <label>
        Username
        <input name="username" value={username} onChange={(e) => setUsername(e.target.value)} required />
      </label>
      <label>
        Password (at least 12 characters)
        <input
          name="password"
          type="password"
          minLength={12}
          value={password}
          onChange={(e) => setPassword(e.target.value)}
          required
        />
      </label>
      {error && <p role="alert">{error}</p>}
      <button type="submit">Create administrator</button>
    </form>
  );
}
