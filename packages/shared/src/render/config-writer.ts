import { RenderError } from "./errors.ts";

/**
 * The last line of defence: validators have already checked every value for its directive, and
 * this writer refuses any token that could still break the line grammar (whitespace, quotes,
 * backslash, `#`/`;`, `<`/`>`, control characters, a leading `-`). A bug in a renderer thus fails
 * loudly instead of producing a config that means something else.
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

  /** Comments are fixed text from the renderers, plus validated tokens. */
  comment(text: string): this {
    if (!COMMENT.test(text)) throw new RenderError("comment", "comment text is not safe for an OpenVPN config");
    this.#lines.push(text === "" ? "#" : `# ${text}`);
    return this;
  }

  directive(name: string, ...args: Token[]): this {
    if (!DIRECTIVE.test(name)) throw new RenderError(name, "not a directive name");
    this.#lines.push([name, ...args.map((arg) => token(name, arg))].join(" "));
    return this;
  }

  /** `push "name args"`: the quoted string holds only tokens, so it cannot close early. */
  push(name: string, ...args: Token[]): this {
    if (!DIRECTIVE.test(name)) throw new RenderError(name, "not a directive name");
    this.#lines.push(`push "${[name, ...args.map((arg) => token(name, arg))].join(" ")}"`);
    return this;
  }

  /** `push-remove "name args"`, same quoting rule as push. */
  pushRemove(name: string, ...args: Token[]): this {
    if (!DIRECTIVE.test(name)) throw new RenderError(name, "not a directive name");
    this.#lines.push(`push-remove "${[name, ...args.map((arg) => token(name, arg))].join(" ")}"`);
    return this;
  }

  /** `<tag>` block; the body comes from pem.ts, re-checked here so no line can close or open a tag. */
  inline(tag: string, body: string): this {
    if (!INLINE_TAGS.has(tag)) throw new RenderError(tag, "not an inline block OpenVPN profiles carry");
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
