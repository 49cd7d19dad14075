import { Checkbox, NumberInput, SimpleGrid, Stack, TextInput } from "@mantine/core";
import { useForm } from "@mantine/form";
import type { Switch } from "@switchboard/shared";
import { optional, saveChanges, useApiErrors, withoutUndefined } from "../../components/form-fields.ts";
import { FormFooter } from "../../components/form-footer.tsx";
import { NetworkSelect } from "../networks/network-select.tsx";
import { useSaveSwitch } from "./queries.ts";

const FIELDS = [
  "networkId",
  "name",
  "endpointHost",
  "endpointPort",
  "dataAddress",
  "backboneAddress",
  "pool.start",
  "pool.end",
  "pool",
  "enabled",
];

const POOL_INPUTS = { "pool.start": "poolStart", "pool.end": "poolEnd", pool: "poolStart" };

interface Values {
  networkId: string;
  name: string;
  endpointHost: string;
  endpointPort: number | string;
  dataAddress: string;
  backboneAddress: string;
  poolStart: string;
  poolEnd: string;
  enabled: boolean;
}

function initial(sw: Switch | undefined, networkId: string | undefined): Values {
  return {
    networkId: sw?.networkId ?? networkId ?? "",
    name: sw?.name ?? "",
    endpointHost: sw?.endpointHost ?? "",
    endpointPort: sw?.endpointPort ?? "",
    dataAddress: sw?.dataAddress ?? "",
    backboneAddress: sw?.backboneAddress ?? "",
    poolStart: sw?.pool?.start ?? "",
    poolEnd: sw?.pool?.end ?? "",
    enabled: sw?.enabled ?? true,
  };
}

function toBody(values: Values, editing: boolean): Record<string, unknown> {
  const start = optional(values.poolStart);
  const end = optional(values.poolEnd);
  return withoutUndefined({
    ...(editing ? {} : { networkId: values.networkId }),
    name: values.name.trim(),
    endpointHost: values.endpointHost.trim(),
    endpointPort: values.endpointPort === "" ? undefined : Number(values.endpointPort),
    dataAddress: optional(values.dataAddress),
    backboneAddress: optional(values.backboneAddress),
    pool: start || end ? { start: start ?? "", end: end ?? "" } : editing ? null : undefined,
    enabled: values.enabled,
  });
}

export function SwitchForm({
  sw,
  networkId,
  onDone,
}: {
  sw?: Switch;
  networkId?: string;
  onDone: (saved: Switch) => void;
}) {
  const form = useForm<Values>({ initialValues: initial(sw, networkId) });
  const save = useSaveSwitch();
  const errors = useApiErrors(form, FIELDS, POOL_INPUTS);

  const submit = (values: Values) =>
    saveChanges({
      body: toBody(values, sw !== undefined),
      saved: sw && { item: sw, body: toBody(initial(sw, undefined), true) },
      save,
      errors,
      onDone,
    });

  return (
    <form onSubmit={form.onSubmit(submit)}>
      <Stack>
        {!sw && <NetworkSelect {...form.getInputProps("networkId")} />}
        <SimpleGrid cols={{ base: 1, sm: 3 }}>
          <TextInput label="Name" required placeholder="fra-1" {...form.getInputProps("name")} />
          <TextInput
            label="Public endpoint"
            description="Host name or IPv4 address clients connect to"
            required
            placeholder="vpn-fra.example.com"
            {...form.getInputProps("endpointHost")}
          />
          <NumberInput
            label="Endpoint port"
            description="Empty: the network's port"
            min={1}
            max={65535}
            {...form.getInputProps("endpointPort")}
          />
        </SimpleGrid>
        <SimpleGrid cols={{ base: 1, sm: 2 }}>
          <TextInput
            label="Data address"
            description="Empty: the lowest free address"
            {...form.getInputProps("dataAddress")}
          />
          <TextInput
            label="Backbone address"
            description="Empty: the lowest free backbone address"
            {...form.getInputProps("backboneAddress")}
          />
        </SimpleGrid>
        <SimpleGrid cols={{ base: 1, sm: 2 }}>
          <TextInput
            label="Dynamic pool start"
            description="Optional: addresses for clients without a static one"
            {...form.getInputProps("poolStart")}
          />
          <TextInput label="Dynamic pool end" description="Optional" {...form.getInputProps("poolEnd")} />
        </SimpleGrid>
        <Checkbox label="Enabled" {...form.getInputProps("enabled", { type: "checkbox" })} />
        <FormFooter
          error={errors.general}
          submitLabel={sw ? "Save switch" : "Create switch"}
          pending={save.isPending}
        />
      </Stack>
    </form>
  );
}
