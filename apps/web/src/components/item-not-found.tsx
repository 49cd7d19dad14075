import { Alert, Anchor } from "@mantine/core";
import { Link } from "react-router";

/** A detail page whose id matches nothing (deleted, or a stale link): say so, and lead back to the list. */
export function ItemNotFound({
  what,
  id,
  listPath,
  listName,
}: {
  /** "network", "switch"... */
  what: string;
  id: string;
  listPath: string;
  listName: string;
}) {
  return (
    <Alert color="red" title={`${what.charAt(0).toUpperCase()}${what.slice(1)} not found`}>
      There is no {what} {id}.{" "}
      <Anchor component={Link} to={listPath}>
        Back to {listName}
      </Anchor>
    </Alert>
  );
}
