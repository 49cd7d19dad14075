import { AppShell, Badge, Burger, Button, Group, Menu, NavLink, ScrollArea, Text, Title, Tooltip } from "@mantine/core";
import { useDisclosure } from "@mantine/hooks";
import type { LoginSession } from "@switchboard/shared";
import {
  IconCertificate,
  IconChevronDown,
  IconDeviceDesktop,
  IconHistory,
  IconKey,
  IconLayoutDashboard,
  IconLock,
  IconLogout,
  IconNetwork,
  IconServer2,
  IconUsers,
} from "@tabler/icons-react";
import { useQuery } from "@tanstack/react-query";
import type { ReactNode } from "react";
import { Outlet, NavLink as RouterNavLink, useLocation } from "react-router";
import { can } from "../auth/roles.ts";
import { useSignOut } from "../auth/session.ts";
import { PageErrorBoundary } from "../components/page-error-boundary.tsx";
import { type LiveStatus, liveKeys } from "../live/live-cache.ts";
import { useLiveFeed } from "../live/use-live-feed.ts";

interface Item {
  to: string;
  label: string;
  icon: ReactNode;
  show?: boolean;
}

export function AppLayout({ session }: { session: LoginSession }) {
  const [opened, { toggle, close }] = useDisclosure();
  const role = session.user.role;
  useLiveFeed(true);
  const signOut = useSignOut();
  const { pathname } = useLocation();
  const isActive = (to: string) => (to === "/" ? pathname === "/" : pathname === to || pathname.startsWith(`${to}/`));

  const main: Item[] = [
    { to: "/", label: "Overview", icon: <IconLayoutDashboard size={18} /> },
    { to: "/networks", label: "Networks", icon: <IconNetwork size={18} /> },
    { to: "/switches", label: "Switches", icon: <IconServer2 size={18} /> },
    { to: "/hosts", label: "Hosts", icon: <IconDeviceDesktop size={18} /> },
    { to: "/certificates", label: "Certificates", icon: <IconCertificate size={18} /> },
    { to: "/audit", label: "Audit log", icon: <IconHistory size={18} />, show: can(role, "audit") },
  ];
  const account: Item[] = [
    { to: "/account/users", label: "Users", icon: <IconUsers size={18} />, show: can(role, "admin") },
    { to: "/account/tokens", label: "API tokens", icon: <IconKey size={18} />, show: can(role, "admin") },
    { to: "/account/password", label: "Change password", icon: <IconLock size={18} /> },
  ];
  const links = (items: Item[]) =>
    items
      .filter((item) => item.show !== false)
      .map((item) => (
        <NavLink
          key={item.to}
          component={RouterNavLink}
          to={item.to}
          end={item.to === "/"}
          active={isActive(item.to)}
          label={item.label}
          leftSection={item.icon}
          onClick={close}
        />
      ));

  return (
    <AppShell
      header={{ height: 56 }}
      navbar={{ width: 220, breakpoint: "sm", collapsed: { mobile: !opened } }}
      padding="lg"
    >
      <AppShell.Header>
        <Group h="100%" px="md" justify="space-between">
          <Group gap="sm">
            <Burger opened={opened} onClick={toggle} hiddenFrom="sm" size="sm" aria-label="Toggle navigation" />
            <Title order={4}>Switchboard</Title>
            <LiveBadge />
          </Group>
          <Menu position="bottom-end" width={220}>
            <Menu.Target>
              <Button variant="subtle" rightSection={<IconChevronDown size={14} />} data-testid="user-menu">
                {session.user.username}
                <Text span c="dimmed" size="xs" ml={6}>
                  {role}
                </Text>
              </Button>
            </Menu.Target>
            <Menu.Dropdown>
              <Menu.Item component={RouterNavLink} to="/account/password" leftSection={<IconLock size={14} />}>
                Change password
              </Menu.Item>
              <Menu.Item leftSection={<IconLogout size={14} />} onClick={() => signOut.mutate()}>
                Sign out
              </Menu.Item>
            </Menu.Dropdown>
          </Menu>
        </Group>
      </AppShell.Header>
      <AppShell.Navbar p="sm" component="nav" aria-label="Main">
        <AppShell.Section grow component={ScrollArea}>
          {links(main)}
          <Text size="xs" c="dimmed" fw={600} tt="uppercase" mt="lg" mb={4} px="sm">
            Account
          </Text>
          {links(account)}
        </AppShell.Section>
      </AppShell.Navbar>
      <AppShell.Main>
        {/* Keyed by the page's path: a page that failed is fresh again once the person moves on. */}
        <PageErrorBoundary key={pathname}>
          <Outlet />
        </PageErrorBoundary>
      </AppShell.Main>
    </AppShell>
  );
}

function LiveBadge() {
  const status = useQuery<LiveStatus>({
    queryKey: liveKeys.status,
    queryFn: () => "connecting",
    staleTime: Number.POSITIVE_INFINITY,
  }).data;
  const [color, label, tip] =
    status === "open"
      ? ["green", "live", "Changes appear as they happen"]
      : status === "reconnecting"
        ? ["orange", "reconnecting", "The live feed dropped; reconnecting, then everything is refetched"]
        : ["gray", "connecting", "Opening the live feed"];
  return (
    <Tooltip label={tip}>
      <Badge color={color} variant="dot" data-testid="live-status" data-status={status ?? "connecting"}>
        {label}
      </Badge>
    </Tooltip>
  );
}
