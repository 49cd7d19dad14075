/** The named fields of an object: an audit summary records what a change touched, before and after. */
export function pick<T extends object>(object: T, keys: readonly string[]): Partial<T> {
  return Object.fromEntries(
    keys.filter((key) => key in object).map((key) => [key, object[key as keyof T]]),
  ) as Partial<T>;
}
