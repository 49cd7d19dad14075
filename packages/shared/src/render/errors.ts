/**
 * Thrown by every renderer when an input is unsafe or inconsistent. `field` is a path into the
 * renderer's inputs (e.g. "host.subnets[1]") and `rule` is the rule it broke, so the API can turn
 * it into a 4xx naming both instead of a 500.
 */
export class RenderError extends Error {
  override readonly name = "RenderError";
  readonly field: string;
  readonly rule: string;

  constructor(field: string, rule: string) {
    super(`${field}: ${rule}`);
    this.field = field;
    this.rule = rule;
  }
}
