import { Button, Group } from "@mantine/core";
import { useMemo } from "react";

interface Pages<Item> {
  data: { pages: readonly { items: readonly Item[] }[] } | undefined;
  hasNextPage: boolean;
  isFetchingNextPage: boolean;
  fetchNextPage: () => unknown;
}

/** The items of every page loaded so far, in order (undefined until the first page is in). */
export function useLoadedItems<Item>(pages: Pages<Item>): Item[] | undefined {
  return useMemo(() => pages.data?.pages.flatMap((page) => page.items), [pages.data]);
}

/** Under a cursor-paged list: fetches the next page, and is gone once there is none. */
export function LoadMore({ pages }: { pages: Pages<unknown> }) {
  if (!pages.hasNextPage) return null;
  return (
    <Group justify="center" mt="md">
      <Button variant="default" onClick={() => void pages.fetchNextPage()} loading={pages.isFetchingNextPage}>
        Load more
      </Button>
    </Group>
  );
}
