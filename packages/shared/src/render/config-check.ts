import {
  type ArgRule,
  BACKBONE_RULES,
  type DirectiveRules,
  PUSH_RULES,
  REQUIRED_DIRECTIVES,
  type RuleContext,
  SERVER_RULES,
} from "./directive-rules.ts";

/**
 * Reads a rendered config the way the renderers write it (config-writer.ts) and checks every
 * line against the allow-list (directive-rules.ts). Anything the writer cannot produce is
 * refused rather than interpreted: another spacing, a tab, a quote outside `push "..."`, a
 * `--` prefix, `;` comments, inline `<blocks>` (none are rendered for a switch), a line longer
 * than OpenVPN reads in one go. So the checker never has to agree with OpenVPN's own parser on
 * anything but single-space-separated plain tokens.
 */

export type ConfigKind = "server" | "backbone";

export interface ConfigProblem {
  /** 1-based line number; 0 for the config as a whole (a missing directive). */
  readonly line: number;
  readonly message: string;
}

/**
 * OpenVPN 2.6 reads a config line with fgets into 256 bytes and refuses one that fills them
 * (254 characters and the newline is the longest it takes); older versions read the rest of a
 * long line as a line of its own.
 */
export const MAX_CONFIG_LINE = 254;

const DIRECTIVE = /^[a-z][a-z0-9-]*$/;
const TOKEN = /^[A-Za-z0-9_.:/@+=,][A-Za-z0-9_.:/@+=,-]*$/;
const COMMENT = /^#(?: [A-Za-z0-9 _.:;/@+=,()'-]*)?$/;
const PUSH = /^push "([^"]*)"$/;

const RULES: Readonly<Record<ConfigKind, DirectiveRules>> = { server: SERVER_RULES, backbone: BACKBONE_RULES };

function own(rules: DirectiveRules, name: string): boolean {
  return Object.hasOwn(rules, name);
}

function checkArgs(
  rules: DirectiveRules,
  name: string,
  args: readonly string[],
  ctx: RuleContext,
  shown: string,
): string | undefined {
  const bad = args.find((arg) => !TOKEN.test(arg));
  if (bad !== undefined) return `'${shown}': ${JSON.stringify(bad)} is not a plain token`;
  const alternatives = rules[name] ?? [];
  if (alternatives.some((rule) => rule.length === args.length && rule.every((arg, i) => arg.test(args[i] ?? "", ctx))))
    return undefined;
  const expected = alternatives.map((rule: readonly ArgRule[]) =>
    rule.length === 0 ? "no arguments" : rule.map((arg) => arg.what(ctx)).join(", "),
  );
  return `'${shown}': arguments must be ${expected.join("; or ")}`;
}

function checkPush(line: string, ctx: RuleContext): string | undefined {
  const inner = PUSH.exec(line)?.[1];
  if (inner === undefined) return `${JSON.stringify(line.slice(0, 80))}: push must be push "<option and plain tokens>"`;
  const [name = "", ...args] = inner.split(" ");
  if (!DIRECTIVE.test(name) || !own(PUSH_RULES, name)) {
    return `push of ${JSON.stringify(name.slice(0, 40))}: not an option Switchboard pushes`;
  }
  return checkArgs(PUSH_RULES, name, args, ctx, line.slice(0, 80));
}

/** The directive a line holds (undefined for blank and comment lines), and what is wrong with it. */
function checkLine(rules: DirectiveRules, line: string, ctx: RuleContext): { name?: string; problem?: string } {
  // Before anything else: a cut comment line would go on as a directive.
  if (line.length > MAX_CONFIG_LINE) return { problem: `longer than ${MAX_CONFIG_LINE} characters` };
  if (line === "" || COMMENT.test(line)) return {};
  const [name = "", ...args] = line.split(" ");
  if (!DIRECTIVE.test(name)) {
    const what = name.startsWith("<") ? "inline blocks are not rendered for a switch" : "not a directive name";
    return { problem: `${JSON.stringify(name.slice(0, 40))}: ${what}` };
  }
  if (!own(rules, name)) return { name, problem: `'${name}' is not a directive Switchboard renders here` };
  const problem = name === "push" ? checkPush(line, ctx) : checkArgs(rules, name, args, ctx, line.slice(0, 80));
  return problem === undefined ? { name } : { name, problem };
}

/**
 * Every problem in a server or backbone config, in line order; an empty list means it holds only
 * what the renderers write, with this switch's paths, devices and account.
 */
export function checkRenderedConfig(kind: ConfigKind, text: string, ctx: RuleContext): ConfigProblem[] {
  const rules = RULES[kind];
  const problems: ConfigProblem[] = [];
  if (typeof text !== "string" || !text.endsWith("\n")) {
    return [{ line: 0, message: "must be lines of text ending with a newline" }];
  }
  const seen = new Set<string>();
  text
    .slice(0, -1)
    .split("\n")
    .forEach((line, index) => {
      const { name, problem } = checkLine(rules, line, ctx);
      if (name !== undefined) seen.add(name);
      if (problem !== undefined) problems.push({ line: index + 1, message: problem });
    });
  for (const name of REQUIRED_DIRECTIVES) {
    if (!seen.has(name)) problems.push({ line: 0, message: `'${name}' is missing` });
  }
  return problems;
}

/** True when a writer bound to `kind` may emit this directive name (config-writer.ts). */
export function isAllowedDirective(rules: DirectiveRules, name: string): boolean {
  return own(rules, name);
}
