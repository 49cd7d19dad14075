import { Select, type SelectProps } from "@mantine/core";
import { useNetworks } from "./queries.ts";

/** The network a new host or switch joins (required: it cannot move later); spread the form's input props. */
export function NetworkSelect(props: Omit<SelectProps, "label" | "data" | "required" | "allowDeselect">) {
  const networks = useNetworks();
  return (
    <Select
      label="Network"
      required
      allowDeselect={false}
      data={(networks.data ?? []).map((n) => ({ value: n.id, label: `${n.name} (${n.dataSubnet})` }))}
      {...props}
    />
  );
}
