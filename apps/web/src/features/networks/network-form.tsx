import { MultiSelect, NumberInput, Select, SimpleGrid, Stack, TagsInput, Textarea, TextInput } from "@mantine/core";
import { useForm } from "@mantine/form";
import type { DataCipher, Network } from "@switchboard/shared";
import { optional, saveChanges, useApiErrors, withoutUndefined } from "../../components/form-fields.ts";
import { FormFooter } from "../../components/form-footer.tsx";
import { plural } from "../../components/format.ts";
import { useHosts } from "../hosts/queries.ts";
import { useSwitches } from "../switches/queries.ts";
import { useSaveNetwork } from "./queries.ts";

const FIELDS = [
  "name",
  "dataSubnet",
  "backboneSubnet",
  "description",
  "proto",
  "port",
  "keepaliveInterval",
  "keepaliveTimeout",
  "dataCiphers",
  "pushRoutes",
  "dnsServers",
  "dnsDomain",
];
const CIPHERS: DataCipher[] = ["AES-256-GCM", "AES-128-GCM", "AES-192-GCM", "CHACHA20-POLY1305"];

interface Values {
  name: string;
  dataSubnet: string;
  backboneSubnet: string;
  description: string;
  proto: "udp" | "tcp";
  port: number | string;
  keepaliveInterval: number | string;
  keepaliveTimeout: number | string;
  dataCiphers: string[];
  pushRoutes: string[];
  dnsServers: string[];
  dnsDomain: string;
}

function initial(network: Network | undefined): Values {
  return {
    name: network?.name ?? "",
    dataSubnet: network?.dataSubnet ?? "",
    backboneSubnet: network?.backboneSubnet ?? "",
    description: network?.description ?? "",
    proto: network?.proto ?? "udp",
    port: network?.port ?? 1194,
    keepaliveInterval: network?.keepaliveInterval ?? 10,
    keepaliveTimeout: network?.keepaliveTimeout ?? 60,
    dataCiphers: network?.dataCiphers ?? ["AES-256-GCM", "AES-128-GCM", "CHACHA20-POLY1305"],
    pushRoutes: network?.pushRoutes ?? [],
    dnsServers: network?.dnsServers ?? [],
    dnsDomain: network?.dnsDomain ?? "",
  };
}

function toBody(values: Values): Record<string, unknown> {
  return withoutUndefined({
    name: values.name.trim(),
    dataSubnet: values.dataSubnet.trim(),
    backboneSubnet: values.backboneSubnet.trim(),
    description: values.description,
    proto: values.proto,
    port: num(values.port),
    keepaliveInterval: num(values.keepaliveInterval),
    keepaliveTimeout: num(values.keepaliveTimeout),
    dataCiphers: values.dataCiphers,
    pushRoutes: values.pushRoutes,
    dnsServers: values.dnsServers,
    dnsDomain: optional(values.dnsDomain) ?? null,
  });
}

const num = (value: number | string) => (typeof value === "number" ? value : value === "" ? undefined : Number(value));

export function NetworkForm({ network, onDone }: { network?: Network; onDone: (saved: Network) => void }) {
  const form = useForm<Values>({ initialValues: initial(network) });
  const save = useSaveNetwork();
  const errors = useApiErrors(form, FIELDS);
  const subnetsFixed = useSubnetsFixedReason(network);

  const submit = (values: Values) =>
    saveChanges({
      body: toBody(values),
      saved: network && { item: network, body: toBody(initial(network)) },
      save,
      errors,
      onDone,
    });

  return (
    <form onSubmit={form.onSubmit(submit)}>
      <Stack>
        <SimpleGrid cols={{ base: 1, sm: 3 }}>
          <TextInput label="Name" required placeholder="office-lan" {...form.getInputProps("name")} />
          <TextInput
            label="Data subnet"
            required
            placeholder="10.100.100.0/24"
            readOnly={subnetsFixed !== undefined}
            disabled={subnetsFixed !== undefined}
            description={subnetsFixed}
            {...form.getInputProps("dataSubnet")}
          />
          <TextInput
            label="Backbone subnet"
            required
            placeholder="10.200.200.0/24"
            readOnly={subnetsFixed !== undefined}
            disabled={subnetsFixed !== undefined}
            description={subnetsFixed}
            {...form.getInputProps("backboneSubnet")}
          />
        </SimpleGrid>
        <Textarea label="Description" autosize minRows={1} {...form.getInputProps("description")} />
        <SimpleGrid cols={{ base: 2, sm: 4 }}>
          <Select
            label="Protocol"
            data={[
              { value: "udp", label: "UDP" },
              { value: "tcp", label: "TCP" },
            ]}
            allowDeselect={false}
            {...form.getInputProps("proto")}
          />
          <NumberInput label="Port" min={1} max={65535} {...form.getInputProps("port")} />
          <NumberInput label="Keepalive interval (s)" min={1} {...form.getInputProps("keepaliveInterval")} />
          <NumberInput label="Keepalive timeout (s)" min={2} {...form.getInputProps("keepaliveTimeout")} />
        </SimpleGrid>
        <MultiSelect label="Data ciphers" data={CIPHERS} {...form.getInputProps("dataCiphers")} />
        <TagsInput
          label="Routes pushed to every host"
          description="Subnets, e.g. 192.168.10.0/24; press Enter after each"
          {...form.getInputProps("pushRoutes")}
        />
        <SimpleGrid cols={{ base: 1, sm: 2 }}>
          <TagsInput label="DNS servers" description="IPv4 addresses" {...form.getInputProps("dnsServers")} />
          <TextInput label="DNS domain" placeholder="lan.example.com" {...form.getInputProps("dnsDomain")} />
        </SimpleGrid>
        <FormFooter
          error={errors.general}
          submitLabel={network ? "Save network" : "Create network"}
          pending={save.isPending}
        />
      </Stack>
    </form>
  );
}

/**
 * Why a network's subnets cannot change now (the API refuses while switches or hosts hold
 * addresses in them), so the form shows them read-only with the reason instead of a refusal
 * after Save. Undefined for a new network or one with nothing in it.
 */
function useSubnetsFixedReason(network: Network | undefined): string | undefined {
  const switches = useSwitches().data;
  const hosts = useHosts().data;
  if (!network) return undefined;
  const ownSwitches = (switches ?? []).filter((s) => s.networkId === network.id).length;
  const ownHosts = (hosts ?? []).filter((h) => h.networkId === network.id).length;
  if (ownSwitches === 0 && ownHosts === 0) return undefined;
  const holders = [
    ownSwitches > 0 && plural(ownSwitches, "switch", "switches"),
    ownHosts > 0 && plural(ownHosts, "host"),
  ]
    .filter(Boolean)
    .join(" and ");
  return `Fixed while the network has ${holders} with addresses in it`;
}
