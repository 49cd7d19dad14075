import { isAllowedDirective, MAX_CONFIG_LINE } from "./config-check.ts";
import type { DirectiveRules } from "./directive-rules.ts";
import { PUSH_RULES } from "./directive-rules.ts";
import { RenderError } from "./errors.ts";

/**
 * The last line of defence: validators have already checked every value for its directive, and
 * this writer refuses any token that could still break the line grammar (whitespace, quotes,
 * backslash, `#`/`;`, `<`/`>`, control characters, a leading `-`). A bug in a renderer thus fails
 * loudly instead of producing a config that means something else.
 *
 * A writer bound to an allow-list (directive-rules.ts: a switch's server and backbone configs)
 * also refuses any directive the list lacks, so a renderer cannot start emitting something the
 * agent's checker would refuse. No line may be longer than OpenVPN reads (MAX_CONFIG_LINE).
 */

const DIRECTIVE = /^[a-z][a-z0-9-]*$/;
const TOKEN = /^[A-Za-z0-9_.:/@+=,][A-Za-z0-9_.:/@+=,-]*$/;
const COMMENT = /^[A-Za-z0-9 _.:;/@+=,()'-]*$/;
const INLINE_TAGS = new Set(["ca", "cert", "key", "tls-crypt"]);

export type Token = string | number;

function token(directive: string, value: Token): string {
  const text = String(value);
  if (!TOKEN.test(text)) throw new RenderError(directive, "value is not a safe OpenVPN config token");
  return text;
}

export class ConfigWriter {
  readonly #lines: string[] = [];

  /** `rules`: the allow-list this config is checked against on the switch; none for ccd files and profiles. */
  constructor(private readonly rules?: DirectiveRules) {}

  #add(name: string, line: string): this {
    if (line.length > MAX_CONFIG_LINE) {
      throw new RenderError(name, `line is longer than the ${MAX_CONFIG_LINE} characters OpenVPN reads`);
    }
    this.#lines.push(line);
    return this;
  }

  #allowed(name: string, rules: DirectiveRules | undefined = this.rules): void {
    if (!DIRECTIVE.test(name)) throw new RenderError(name, "not a directive name");
    if (rules !== undefined && !isAllowedDirective(rules, name)) {
      throw new RenderError(name, "not in the allow-list the switch checks this config against");
    }
  }

  /** Comments are fixed text from the renderers, plus validated tokens. */
  comment(text: string): this {
    if (!COMMENT.test(text)) throw new RenderError("comment", "comment text is not safe for an OpenVPN config");
    return this.#add("comment", text === "" ? "#" : `# ${text}`);
  }

  directive(name: string, ...args: Token[]): this {
    this.#allowed(name);
    return this.#add(name, [name, ...args.map((arg) => token(name, arg))].join(" "));
  }

  /** `push "name args"`: the quoted string holds only tokens, so it cannot close early. */
  push(name: string, ...args: Token[]): this {
    this.#allowed("push");
    this.#allowed(name, this.rules === undefined ? undefined : PUSH_RULES);
    return this.#add(name, `push "${[name, ...args.map((arg) => token(name, arg))].join(" ")}"`);
  }

  /** `push-remove "name args"`, same quoting rule as push. */
  pushRemove(name: string, ...args: Token[]): this {
    this.#allowed("push-remove");
    this.#allowed(name, this.rules === undefined ? undefined : PUSH_RULES);
    return this.#add(name, `push-remove "${[name, ...args.map((arg) => token(name, arg))].join(" ")}"`);
  }

  /** `<tag>` block; the body comes from pem.ts, re-checked here so no line can close or open a tag. */
  inline(tag: string, body: string): this {
    if (!INLINE_TAGS.has(tag)) throw new RenderError(tag, "not an inline block OpenVPN profiles carry");
    if (this.rules !== undefined)
      throw new RenderError(tag, "a switch's configs name files, they carry no inline blocks");
    const rows = body.split("\n");
    if (!rows.every((row) => /^[A-Za-z0-9+/= -]+$/.test(row))) {
      throw new RenderError(tag, "inline block body is not PEM text");
    }
    this.#lines.push(`<${tag}>`, ...rows, `</${tag}>`);
    return this;
  }

  blank(): this {
    this.#lines.push("");
    return this;
  }

  toString(): string {
    return `${this.#lines.join("\n")}\n`;
  }
}
