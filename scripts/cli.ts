/**
 * The command-line parser of the scripts people run (`npm start`, `npm run bench`, `npm run doctor`,
 * the examples, the diagnostics in bench/ and scripts/). Not part of the library.
 *
 * - `--help` / `-h` prints the usage and exits 0 before the script does any work;
 * - an unknown flag, a missing or malformed value, a value for a flag that takes none, or an extra
 *   positional argument prints ONE line naming it on stderr and exits 2 (as does `usageError`, for
 *   checks a script makes after parsing).
 *
 * Flags are `--name value`, `--name=value`, `-x value` (a short alias) or `--flag` (booleans);
 * `--` ends the flags. A repeated flag keeps its last value.
 *
 * ```ts
 * const { values, given } = parseCli({
 *   command: "npm start --",
 *   description: "Train a classifier.",
 *   options: {
 *     epochs: { type: "integer", default: 30, min: 1, value: "N", help: "training epochs" },
 *     model: { type: "string", choices: ["mlp", "cnn"], default: "mlp", help: "the model" },
 *     resume: { type: "boolean", help: "continue from the checkpoint" },
 *   },
 * });
 * values.epochs; // number
 * given.has("model"); // whether --model was on the command line
 * ```
 */

/** The type of a flag's value. */
export type OptionType = "string" | "boolean" | "number" | "integer";

/** One flag. */
export interface OptionSpec {
  type: OptionType;
  /** One line for `--help`. "(default X)" is appended when there is a default. */
  help: string;
  /** A one-letter alias (`-x`). */
  short?: string;
  /** The value's name in `--help` (default: the choices, or N / X / VALUE). */
  value?: string;
  /** The value when the flag is absent (booleans: false). */
  default?: string | number | boolean;
  /** The allowed values of a string flag. */
  choices?: readonly string[];
  /** Inclusive bounds of a number. */
  min?: number;
  max?: number;
  /** Not listed by `--help` (flags a script passes to itself). */
  hidden?: boolean;
}

/** A script's command line. */
export interface CliSpec<O extends Record<string, OptionSpec>> {
  /** How users run it, e.g. "npm start --" or "npx tsx bench/gemm-w4.ts". */
  command: string;
  /** What the script does: the first lines of `--help`. */
  description: string;
  options: O;
  /** Optional positional arguments, in order (none allowed if absent). */
  positionals?: readonly { name: string; help: string }[];
  /** Text after the list of options. */
  epilog?: string;
}

type Scalar<S extends OptionSpec> = S["type"] extends "boolean"
  ? boolean
  : S["type"] extends "number" | "integer"
    ? number
    : S extends { choices: readonly (infer C)[] }
      ? C
      : string;

/** The parsed values: a flag without a default (and not boolean) may be undefined. */
export type CliValues<O extends Record<string, OptionSpec>> = {
  -readonly [K in keyof O]: O[K]["type"] extends "boolean" ? boolean : O[K] extends { default: string | number } ? Scalar<O[K]> : Scalar<O[K]> | undefined;
};

/** What `parseArgv` returns. */
export interface ParsedCli<O extends Record<string, OptionSpec>> {
  values: CliValues<O>;
  /** The positional arguments. */
  positionals: string[];
  /** The flags given on the command line (as opposed to defaults). */
  given: Set<keyof O & string>;
  /** Whether `--help` / `-h` was given (`parseArgv` does not exit). */
  help: boolean;
}

/** A malformed command line: `message` is the one line to print. */
export class CliError extends Error {
  override readonly name = "CliError";
}

const placeholder = (s: OptionSpec): string =>
  s.type === "boolean" ? "" : (s.value ?? (s.choices ? s.choices.join("|") : s.type === "integer" ? "N" : s.type === "number" ? "X" : "VALUE"));

function describe(o: OptionSpec): string {
  if (o.type === "integer") return o.min === undefined ? "an integer" : o.max === undefined ? `an integer >= ${o.min}` : `an integer from ${o.min} to ${o.max}`;
  if (o.type === "number") return o.min === undefined ? "a number" : o.max === undefined ? `a number >= ${o.min}` : `a number from ${o.min} to ${o.max}`;
  return "a value";
}

function convert(name: string, o: OptionSpec, raw: string): string | number {
  if (o.type === "number" || o.type === "integer") {
    const n = raw.trim() === "" ? NaN : Number(raw);
    const ok = Number.isFinite(n) && (o.type === "number" || Number.isInteger(n)) && (o.min === undefined || n >= o.min) && (o.max === undefined || n <= o.max);
    if (!ok) throw new CliError(`--${name}: expected ${describe(o)}, got "${raw}"`);
    return n;
  }
  if (o.choices && !o.choices.includes(raw)) throw new CliError(`--${name}: expected ${o.choices.join(" or ")}, got "${raw}"`);
  return raw;
}

/** `--help` text. */
export function formatHelp<O extends Record<string, OptionSpec>>(spec: CliSpec<O>): string {
  const rows: [string, string][] = [];
  for (const [name, o] of Object.entries(spec.options)) {
    if (o.hidden) continue;
    const flag = `${o.short ? `-${o.short}, ` : "    "}--${name}${o.type === "boolean" ? "" : ` ${placeholder(o)}`}`;
    const dflt = o.default === undefined || o.default === false ? "" : ` (default ${String(o.default)})`;
    rows.push([flag, o.help + dflt]);
  }
  rows.push(["-h, --help", "print this text and exit"]);
  const pos = spec.positionals ?? [];
  const width = Math.max(...rows.map(([f]) => f.length), ...pos.map((p) => p.name.length)) + 2;
  const out = [spec.description.trimEnd(), "", `Usage: ${spec.command} [options]${pos.map((p) => ` [${p.name}]`).join("")}`, ""];
  if (pos.length) out.push("Arguments:", ...pos.map((p) => `  ${p.name.padEnd(width)}${p.help}`), "");
  out.push("Options:", ...rows.map(([f, h]) => `  ${f.padEnd(width)}${h}`));
  if (spec.epilog) out.push("", spec.epilog.trimEnd());
  return out.join("\n");
}

/** Parse `argv` (without exiting): throws {@link CliError} on a malformed command line. */
export function parseArgv<const O extends Record<string, OptionSpec>>(spec: CliSpec<O>, argv: readonly string[]): ParsedCli<O> {
  const opts: Record<string, OptionSpec> = spec.options;
  const byShort = new Map<string, string>();
  for (const [name, o] of Object.entries(opts)) if (o.short) byShort.set(o.short, name);
  const values: Record<string, unknown> = {};
  for (const [name, o] of Object.entries(opts)) values[name] = o.type === "boolean" ? (o.default ?? false) : o.default;
  const given = new Set<string>();
  const positionals: string[] = [];
  const isFlag = (t: string | undefined): boolean => t !== undefined && t.startsWith("-") && t !== "-" && !/^-\d|^-\.\d/.test(t);
  // --help anywhere before "--" wins over any error
  const end = argv.indexOf("--");
  const help = (end < 0 ? argv : argv.slice(0, end)).some((t) => t === "--help" || t === "-h");
  if (help) return { values: values as CliValues<O>, positionals, given: given as Set<keyof O & string>, help };
  for (let i = 0; i < argv.length; i++) {
    const tok = argv[i]!;
    if (tok === "--") {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (!isFlag(tok)) {
      positionals.push(tok);
      continue;
    }
    let name: string | undefined;
    let inline: string | undefined;
    if (tok.startsWith("--")) {
      const eq = tok.indexOf("=");
      name = eq < 0 ? tok.slice(2) : tok.slice(2, eq);
      inline = eq < 0 ? undefined : tok.slice(eq + 1);
      if (!Object.hasOwn(opts, name)) throw new CliError(`unknown option ${eq < 0 ? tok : tok.slice(0, eq)}`);
    } else {
      name = tok.length === 2 ? byShort.get(tok[1]!) : undefined;
      if (name === undefined) throw new CliError(`unknown option ${tok}`);
    }
    const o = opts[name]!;
    given.add(name);
    if (o.type === "boolean") {
      if (inline !== undefined) throw new CliError(`--${name} takes no value (got "${inline}")`);
      values[name] = true;
      continue;
    }
    let raw = inline;
    if (raw === undefined) {
      const next = argv[i + 1];
      if (next === undefined || isFlag(next)) throw new CliError(`--${name} needs a value (${placeholder(o)})`);
      raw = next;
      i++;
    }
    values[name] = convert(name, o, raw);
  }
  const allowed = spec.positionals?.length ?? 0;
  if (positionals.length > allowed) {
    throw new CliError(`unexpected argument "${positionals[allowed]}"${allowed ? ` (at most ${allowed}: ${spec.positionals!.map((p) => p.name).join(", ")})` : " (this command takes only flags)"}`);
  }
  return { values: values as CliValues<O>, positionals, given: given as Set<keyof O & string>, help };
}

let current: CliSpec<Record<string, OptionSpec>> | undefined;

/**
 * Parse `process.argv` for a script: prints the help and exits 0 on `--help`; prints one line
 * and exits 2 on a malformed command line.
 */
export function parseCli<const O extends Record<string, OptionSpec>>(spec: CliSpec<O>, argv: readonly string[] = process.argv.slice(2)): ParsedCli<O> {
  current = spec;
  let parsed: ParsedCli<O>;
  try {
    parsed = parseArgv(spec, argv);
  } catch (e) {
    if (e instanceof CliError) usageError(e.message);
    throw e;
  }
  if (parsed.help) {
    process.stdout.write(`${formatHelp(spec)}\n`);
    process.exit(0);
  }
  return parsed;
}

/** Print `message` as one line on stderr (with a pointer to `--help`) and exit 2. */
export function usageError(message: string): never {
  const hint = current ? ` (${current.command} --help lists the options)` : "";
  process.stderr.write(`error: ${message.replace(/\s*\n\s*/g, " ")}${hint}\n`);
  process.exit(2);
}

/**
 * Print `message` as one line on stderr and exit with `code` (default 2): for a failure the user
 * can fix (a missing or mismatched file), without a stack trace.
 */
export function fail(message: string, code = 2): never {
  process.stderr.write(`error: ${message.replace(/\s*\n\s*/g, " ")}\n`);
  process.exit(code);
}
