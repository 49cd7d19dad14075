import { Checkbox, SimpleGrid, Stack, TagsInput, Textarea, TextInput } from "@mantine/core";
import { useForm } from "@mantine/form";
import type { Host } from "@switchboard/shared";
import { optional, saveChanges, useApiErrors, withoutUndefined } from "../../components/form-fields.ts";
import { FormFooter } from "../../components/form-footer.tsx";
import { NetworkSelect } from "../networks/network-select.tsx";
import { useNetworks } from "../networks/queries.ts";
import { useSaveHost } from "./queries.ts";

const FIELDS = ["networkId", "commonName", "address", "description", "tags", "enabled", "subnets", "pushRoutes"];

interface Values {
  networkId: string;
  commonName: string;
  address: string;
  description: string;
  tags: string[];
  enabled: boolean;
  subnets: string[];
  pushRoutes: string[];
}

function initial(host: Host | undefined, networkId: string | undefined): Values {
  return {
    networkId: host?.networkId ?? networkId ?? "",
    commonName: host?.commonName ?? "",
    address: host?.address ?? "",
    description: host?.description ?? "",
    tags: host?.tags ?? [],
    enabled: host?.enabled ?? true,
    subnets: host?.subnets ?? [],
    pushRoutes: host?.pushRoutes ?? [],
  };
}

function toBody(values: Values, editing: boolean): Record<string, unknown> {
  return withoutUndefined({
    ...(editing ? {} : { networkId: values.networkId, commonName: values.commonName.trim() }),
    address: optional(values.address),
    description: values.description,
    tags: values.tags,
    enabled: values.enabled,
    subnets: values.subnets,
    pushRoutes: values.pushRoutes,
  });
}

/** Create or edit a host. No checks here beyond "required": the API's rules and messages are the ones shown. */
export function HostForm({
  host,
  networkId,
  onDone,
}: {
  host?: Host;
  networkId?: string;
  onDone: (saved: Host) => void;
}) {
  const networks = useNetworks();
  const firstNetwork = networks.data?.length === 1 ? networks.data[0]?.id : undefined;
  const form = useForm<Values>({ initialValues: initial(host, networkId ?? firstNetwork) });
  const save = useSaveHost();
  const errors = useApiErrors(form, FIELDS);

  const submit = (values: Values) =>
    saveChanges({
      body: toBody(values, host !== undefined),
      saved: host && { item: host, body: toBody(initial(host, undefined), true) },
      save,
      errors,
      onDone,
    });

  return (
    <form onSubmit={form.onSubmit(submit)} noValidate>
      <Stack>
        {!host && (
          <SimpleGrid cols={{ base: 1, sm: 2 }}>
            <NetworkSelect {...form.getInputProps("networkId")} />
            <TextInput
              label="Common name"
              description="Its certificate's name; cannot change later"
              required
              placeholder="web-1"
              {...form.getInputProps("commonName")}
            />
          </SimpleGrid>
        )}
        <TextInput
          label="Address"
          description="Static data address; empty: the lowest free one"
          placeholder="10.100.100.20"
          {...form.getInputProps("address")}
        />
        <Textarea label="Description" autosize minRows={1} {...form.getInputProps("description")} />
        <TagsInput label="Tags" description="Press Enter after each tag" {...form.getInputProps("tags")} />
        <SimpleGrid cols={{ base: 1, sm: 2 }}>
          <TagsInput
            label="Subnets behind this host"
            description="iroute, e.g. 192.168.77.0/24"
            {...form.getInputProps("subnets")}
          />
          <TagsInput label="Routes pushed to this host" {...form.getInputProps("pushRoutes")} />
        </SimpleGrid>
        <Checkbox
          label="Enabled (a disabled host cannot connect)"
          {...form.getInputProps("enabled", { type: "checkbox" })}
        />
        <FormFooter error={errors.general} submitLabel={host ? "Save host" : "Create host"} pending={save.isPending} />
      </Stack>
    </form>
  );
}
