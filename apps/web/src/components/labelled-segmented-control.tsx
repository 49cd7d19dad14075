import { SegmentedControl, type SegmentedControlProps, Text } from "@mantine/core";
import { useId } from "react";

/** A SegmentedControl with a label above it, as Mantine's inputs have (it has none of its own). */
export function LabelledSegmentedControl({ label, ...control }: SegmentedControlProps & { label: string }) {
  const labelId = useId();
  return (
    <div>
      <Text size="sm" fw={500} mb={2} id={labelId}>
        {label}
      </Text>
      <SegmentedControl aria-labelledby={labelId} {...control} />
    </div>
  );
}
