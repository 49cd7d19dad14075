import { Center, Loader } from "@mantine/core";
import { useQueryClient } from "@tanstack/react-query";
import { useEffect } from "react";
import { Navigate, Route, Routes, useLocation } from "react-router";
import { onUnauthorized } from "./api/http.ts";
import { sessionKeys, useLoginSession } from "./auth/session.ts";
import { SetupPage } from "./auth/setup-page.tsx";
import { SignInPage } from "./auth/sign-in-page.tsx";
import { PageErrorBoundary } from "./components/page-error-boundary.tsx";
import { PasswordPage } from "./features/accounts/password-page.tsx";
import { TokensPage } from "./features/accounts/tokens-page.tsx";
import { UsersPage } from "./features/accounts/users-page.tsx";
import { AuditPage } from "./features/audit/audit-page.tsx";
import { CertificatesPage } from "./features/certificates/certificates-page.tsx";
import { HostsPage } from "./features/hosts/hosts-page.tsx";
import { NetworkPage } from "./features/networks/network-page.tsx";
import { NetworksPage } from "./features/networks/networks-page.tsx";
import { OverviewPage } from "./features/overview/overview-page.tsx";
import { SwitchPage } from "./features/switches/switch-page.tsx";
import { SwitchesPage } from "./features/switches/switches-page.tsx";
import { AppLayout } from "./layout/app-layout.tsx";
import { NotFoundPage } from "./layout/not-found-page.tsx";

export function App() {
  const client = useQueryClient();
  const location = useLocation();
  const session = useLoginSession();

  useEffect(() => {
    // A 401 on any request means the session is gone: back to the sign-in page.
    onUnauthorized(() => client.setQueryData(sessionKeys.current, null));
  }, [client]);

  if (location.pathname === "/setup") {
    return (
      <PageErrorBoundary overview={false}>
        <SetupPage />
      </PageErrorBoundary>
    );
  }
  if (session.isPending) {
    return (
      <Center h="100vh">
        <Loader aria-label="Loading" />
      </Center>
    );
  }
  if (!session.data) {
    return (
      <PageErrorBoundary overview={false}>
        <SignInPage />
      </PageErrorBoundary>
    );
  }
  return (
    <Routes>
      <Route element={<AppLayout session={session.data} />}>
        <Route index element={<OverviewPage />} />
        <Route path="networks" element={<NetworksPage />} />
        <Route path="networks/:id" element={<NetworkPage />} />
        <Route path="switches" element={<SwitchesPage />} />
        <Route path="switches/:id" element={<SwitchPage />} />
        <Route path="hosts" element={<HostsPage />} />
        <Route path="certificates" element={<CertificatesPage />} />
        <Route path="audit" element={<AuditPage />} />
        <Route path="account" element={<Navigate to="/account/password" replace />} />
        <Route path="account/password" element={<PasswordPage />} />
        <Route path="account/users" element={<UsersPage />} />
        <Route path="account/tokens" element={<TokensPage />} />
        <Route path="sign-in" element={<Navigate to="/" replace />} />
        <Route path="*" element={<NotFoundPage />} />
      </Route>
    </Routes>
  );
}
