import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

// The API serves the built console from dist/; in `pnpm dev` Vite proxies API calls to it.
export default defineConfig({
  plugins: [react()],
  // One bundle of ~260 kB gzipped (Mantine, TanStack, React): an operator console loaded once a day.
  build: { chunkSizeWarningLimit: 1200 },
  server: {
    proxy: { "/api": "http://127.0.0.1:8080", "/healthz": "http://127.0.0.1:8080", "/readyz": "http://127.0.0.1:8080" },
  },
});
