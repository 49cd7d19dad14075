import type { PGlite } from "@electric-sql/pglite";
import { PrismaPGlite } from "pglite-prisma-adapter";

interface Query {
  args: unknown[];
  argTypes: ({ scalarType?: string } | undefined)[];
}

/**
 * Prisma 6.19 hands Bytes parameters to driver adapters as base64 strings; pglite-prisma-adapter
 * (written for 6.10) passes them on unchanged and PGlite refuses a string for bytea. This wrapper
 * decodes them, the way @prisma/adapter-pg does, at every place a query enters the adapter.
 */
function decodeBytes<Q extends Query>(query: Q): Q {
  if (!query.argTypes.some((type) => type?.scalarType === "bytes")) return query;
  const args = query.args.map((arg, i) =>
    query.argTypes[i]?.scalarType === "bytes" && typeof arg === "string" ? Buffer.from(arg, "base64") : arg,
  );
  return { ...query, args };
}

function wrapQueryable<T extends object>(target: T): T {
  return new Proxy(target, {
    get(object, property, receiver) {
      const value = Reflect.get(object, property, receiver);
      if (typeof value !== "function") return value;
      if (property === "queryRaw" || property === "executeRaw") {
        return (query: Query) => value.call(object, decodeBytes(query));
      }
      if (property === "startTransaction") {
        return async (...args: unknown[]) => wrapQueryable(await value.apply(object, args));
      }
      return value.bind(object);
    },
  });
}

export function pgliteAdapter(pglite: PGlite) {
  const factory = new PrismaPGlite(pglite);
  return wrapQueryable(
    Object.assign(Object.create(Object.getPrototypeOf(factory)), factory, {
      connect: async () => wrapQueryable(await factory.connect()),
    }) as PrismaPGlite,
  );
}
