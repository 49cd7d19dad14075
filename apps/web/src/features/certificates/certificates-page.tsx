import { Badge, Button, Group, Menu, Select, Table, Text } from "@mantine/core";
import type { Certificate } from "@switchboard/shared";
import { IconDownload, IconRefresh } from "@tabler/icons-react";
import { useMemo, useState } from "react";
import { useCan } from "../../auth/session.ts";
import { formatDate, formatRelative } from "../../components/format.ts";
import { LabelledSegmentedControl } from "../../components/labelled-segmented-control.tsx";
import { ListState } from "../../components/list-state.tsx";
import { LoadMore, useLoadedItems } from "../../components/load-more.tsx";
import { PageHeader } from "../../components/page-header.tsx";
import { useNetworks } from "../networks/queries.ts";
import { mayRenew } from "./certificate-rules.ts";
import { useHolderNames } from "./holder-names.ts";
import { type CertificateFilter, useCertificatePages, useCertificateTotals } from "./queries.ts";
import { RenewCertificateModal } from "./renew-modal.tsx";
import { RevokeButton } from "./revoke-button.tsx";

type View = "expiring" | "active" | "revoked" | "all";

/** What an empty view says: the filter left everything out, not "nothing yet". */
const EMPTY_TEXT: Record<View, string> = {
  expiring: "None expiring within 30 days.",
  active: "None in force.",
  revoked: "None revoked.",
  all: "No certificates yet.",
};

const VIEWS: Record<View, Omit<CertificateFilter, "networkId" | "kind">> = {
  expiring: { expiringWithinDays: 30 },
  active: { state: "active" },
  revoked: { state: "revoked" },
  all: { state: "all" },
};

export function CertificatesPage() {
  const networks = useNetworks();
  const canOperate = useCan("operate");
  const canAdmin = useCan("admin");
  const [view, setView] = useState<View>("expiring");
  const [networkId, setNetworkId] = useState<string | null>(null);
  const [kind, setKind] = useState<string | null>(null);
  // Here rather than in the row: the dialog stays open (with the API's answer) if the list refetches.
  const [renewing, setRenewing] = useState<Certificate>();
  const filter = useMemo<CertificateFilter>(
    () => ({
      ...VIEWS[view],
      ...(networkId ? { networkId } : {}),
      ...(kind ? { kind: kind as CertificateFilter["kind"] } : {}),
    }),
    [view, networkId, kind],
  );
  const pages = useCertificatePages(filter);
  const items = useLoadedItems(pages);
  const totals = useCertificateTotals({
    ...(networkId ? { networkId } : {}),
    ...(kind ? { kind: kind as CertificateFilter["kind"] } : {}),
  }).data;
  const holderOf = useHolderNames();

  return (
    <>
      <PageHeader
        title="Certificates"
        description="What each network's CA has issued: expiring soon, in force, revoked."
        actions={
          <Menu position="bottom-end">
            <Menu.Target>
              <Button variant="default" leftSection={<IconDownload size={16} />}>
                Download CRL
              </Button>
            </Menu.Target>
            <Menu.Dropdown>
              {(networks.data ?? []).length === 0 && <Menu.Item disabled>No network yet</Menu.Item>}
              {(networks.data ?? []).map((n) => (
                <Menu.Item key={n.id} component="a" href={`/api/networks/${n.id}/crl`} download={`${n.name}-crl.pem`}>
                  {n.name}
                </Menu.Item>
              ))}
            </Menu.Dropdown>
          </Menu>
        }
      />
      <Group mb="md" align="flex-end">
        <LabelledSegmentedControl
          label="Show"
          value={view}
          onChange={(value) => setView(value as View)}
          data={[
            { value: "expiring", label: "Expiring within 30 days" },
            { value: "active", label: "In force" },
            { value: "revoked", label: "Revoked" },
            { value: "all", label: "All" },
          ]}
        />
        <Select
          label="Network"
          placeholder="All"
          clearable
          w={180}
          data={(networks.data ?? []).map((n) => ({ value: n.id, label: n.name }))}
          value={networkId}
          onChange={setNetworkId}
        />
        <Select
          label="Kind"
          placeholder="All"
          clearable
          w={150}
          data={[
            { value: "client", label: "Host" },
            { value: "server", label: "Switch" },
            { value: "backbone", label: "Backbone" },
            { value: "ca", label: "CA" },
          ]}
          value={kind}
          onChange={setKind}
        />
      </Group>
      {totals && (
        <Text size="sm" c="dimmed" mb="sm" data-testid="certificate-totals">
          {totals.active} in force, {totals.expiringWithin30Days} of them expiring within 30 days; {totals.revoked}{" "}
          revoked.
        </Text>
      )}
      <ListState
        query={{ ...pages, data: items }}
        what="certificates"
        emptyText={EMPTY_TEXT[view]}
        empty={
          view !== "all" &&
          totals &&
          totals.active + totals.revoked > 0 && (
            <Button size="xs" variant="light" onClick={() => setView("all")}>
              Show all {totals.active + totals.revoked}
            </Button>
          )
        }
      >
        {(data) => (
          <>
            <Table striped highlightOnHover verticalSpacing="xs" data-testid="certificates-table">
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>Holder</Table.Th>
                  <Table.Th>Common name</Table.Th>
                  <Table.Th>Kind</Table.Th>
                  <Table.Th>Serial</Table.Th>
                  <Table.Th>Valid until</Table.Th>
                  <Table.Th>State</Table.Th>
                  <Table.Th>
                    <span className="visually-hidden">Actions</span>
                  </Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {data.map((cert) => (
                  <CertificateRow
                    key={cert.id}
                    cert={cert}
                    holder={holderOf(cert)}
                    canRenew={mayRenew(cert, (grant) => (grant === "admin" ? canAdmin : canOperate))}
                    canRevoke={canOperate && !cert.revokedAt && cert.kind === "client"}
                    onRenew={setRenewing}
                  />
                ))}
              </Table.Tbody>
            </Table>
            <LoadMore pages={pages} />
          </>
        )}
      </ListState>
      <RenewCertificateModal certificate={renewing} onClose={() => setRenewing(undefined)} />
    </>
  );
}

function CertificateRow({
  cert,
  holder,
  canRenew,
  canRevoke,
  onRenew,
}: {
  cert: Certificate;
  holder: string;
  canRenew: boolean;
  canRevoke: boolean;
  onRenew: (cert: Certificate) => void;
}) {
  const expiresSoon = !cert.revokedAt && new Date(cert.notAfter).getTime() - Date.now() < 30 * 86_400_000;
  return (
    <Table.Tr data-cn={cert.commonName}>
      <Table.Td fw={500} data-testid="certificate-holder">
        {holder}
      </Table.Td>
      <Table.Td ff="monospace" fz="xs" c="dimmed">
        {cert.commonName}
      </Table.Td>
      <Table.Td>{cert.kind}</Table.Td>
      <Table.Td ff="monospace">{cert.serial.slice(0, 16)}</Table.Td>
      <Table.Td>
        {formatDate(cert.notAfter)}{" "}
        <Text span size="xs" c={expiresSoon ? "orange" : "dimmed"}>
          ({formatRelative(cert.notAfter)})
        </Text>
      </Table.Td>
      <Table.Td>
        {cert.revokedAt ? (
          <Badge color="red" variant="light" tt="none" miw="max-content">
            revoked {cert.revocationReason ? `(${cert.revocationReason})` : ""}
          </Badge>
        ) : (
          <Badge color={expiresSoon ? "orange" : "green"} variant="light" miw="max-content">
            {expiresSoon ? "expiring" : "active"}
          </Badge>
        )}
      </Table.Td>
      <Table.Td>
        {(canRenew || canRevoke) && (
          <Group gap="xs" justify="flex-end" wrap="nowrap">
            {canRenew && (
              <Button
                size="xs"
                variant="default"
                leftSection={<IconRefresh size={14} />}
                onClick={() => onRenew(cert)}
                aria-label={`Renew the certificate of ${cert.commonName}`}
              >
                Renew
              </Button>
            )}
            {canRevoke && <RevokeButton certificate={cert} />}
          </Group>
        )}
      </Table.Td>
    </Table.Tr>
  );
}
