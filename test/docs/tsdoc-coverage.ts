/**
 * Which parts of the public API lack a TSDoc comment, or an `@example` in it (issue 7 asks for
 * both). Builds TypeDoc's JSON model of the two entry points (typedoc.json) into a temporary folder
 * and walks it:
 *
 * - every export of "safegrad" and "safegrad/node", and every member of the namespaces they export
 *   (`nn`, `nn.init`, `nn.functional`, `io`), needs a comment; functions and classes need an
 *   `@example` in it (run by examples.test.ts);
 * - every public member of an exported class (properties, accessors, methods; not the constructor,
 *   which the class comment covers) needs a comment, and every public method an `@example`; an
 *   override without its own comment inherits the comment of the member it overrides;
 * - every property and method of an exported interface needs a comment (what the field means and,
 *   for options, its default).
 *
 *   npx tsx test/docs/tsdoc-coverage.ts      # the counts, the list of gaps and TypeDoc's warnings
 *
 * tsdoc-coverage.test.ts turns this into a test.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { root } from "./snippets.js";

interface Comment {
  summary?: { text: string }[];
  blockTags?: { tag: string }[];
}
interface Reflection {
  name: string;
  kind: number;
  flags?: { isPrivate?: boolean; isProtected?: boolean; isExternal?: boolean };
  comment?: Comment;
  signatures?: { comment?: Comment }[];
  getSignature?: { comment?: Comment };
  setSignature?: { comment?: Comment };
  children?: Reflection[];
  inheritedFrom?: unknown;
}

/** TypeDoc's ReflectionKind values that occur in our model. */
const KIND = {
  namespace: 4,
  variable: 32,
  function: 64,
  class: 128,
  interface: 256,
  constructor: 512,
  property: 1024,
  method: 2048,
  accessor: 262144,
  typeAlias: 2097152,
  reference: 4194304, // a re-export of something already listed elsewhere
} as const;
const KIND_NAME: Record<number, string> = Object.fromEntries(Object.entries(KIND).map(([k, v]) => [v, k]));

export type GapKind = "no TSDoc" | "no @example";

export interface Gap {
  /** "safegrad" or "safegrad/node". */
  entry: string;
  /** Dotted path inside the entry; class and interface members as `Class#member`. */
  name: string;
  /** "function", "class", "interface", "method", ... */
  kind: string;
  problem: GapKind;
}

/** The gap as one line: `safegrad: nn.Linear#forward (method): no @example`. */
export const gapKey = (g: Gap): string => `${g.entry}: ${g.name} (${g.kind}): ${g.problem}`;

export interface ApiModel {
  project: Reflection;
  /** TypeDoc's warnings (a type used by the API but not exported, a broken {@link}, ...), one per line. */
  warnings: string[];
}

/** TypeDoc's JSON model of the public API (the entry points of typedoc.json), and its warnings. */
export function buildApiModel(): ApiModel {
  const dir = mkdtempSync(join(tmpdir(), "safegrad-typedoc-"));
  try {
    const out = join(dir, "api.json");
    const r = spawnSync(
      process.execPath,
      [join(root, "node_modules", "typedoc", "bin", "typedoc"), "--json", out, "--out", join(dir, "html"), "--logLevel", "Warn"],
      { cwd: root, encoding: "utf8", env: { ...process.env, NO_COLOR: "1", FORCE_COLOR: "0" } },
    );
    if (r.status !== 0) throw new Error(`typedoc failed:\n${r.stdout}${r.stderr}`);
    const warnings = `${r.stdout}\n${r.stderr}`
      .split("\n")
      // eslint-disable-next-line no-control-regex
      .map((l) => l.replace(/\x1b\[[0-9;]*m/g, "").trim())
      .filter((l) => l.startsWith("[warning]") && !/^\[warning\] Found \d+ errors and \d+ warnings/.test(l));
    return { project: JSON.parse(readFileSync(out, "utf8")) as Reflection, warnings };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const hasText = (c: Comment | undefined): c is Comment =>
  !!c && ((c.summary ?? []).some((s) => s.text.trim() !== "") || (c.blockTags ?? []).length > 0);

function commentOf(x: Reflection): Comment | undefined {
  if (hasText(x.comment)) return x.comment;
  const sigs = [...(x.signatures ?? []), ...(x.getSignature ? [x.getSignature] : []), ...(x.setSignature ? [x.setSignature] : [])];
  return sigs.map((s) => s.comment).find(hasText);
}

/** Whether any comment of `x` (its own or a signature's) has an `@example`. */
function hasExample(x: Reflection): boolean {
  const sigs = [...(x.signatures ?? []), ...(x.getSignature ? [x.getSignature] : []), ...(x.setSignature ? [x.setSignature] : [])];
  return [x.comment, ...sigs.map((s) => s.comment)].some((c) => (c?.blockTags ?? []).some((t) => t.tag === "@example"));
}

/** Every gap in the model, in a stable order. */
export function findGaps(project: Reflection): Gap[] {
  const gaps: Gap[] = [];
  for (const entry of project.children ?? []) {
    const entryName = entry.name === "index" ? "safegrad" : entry.name === "node" ? "safegrad/node" : entry.name;
    const add = (name: string, x: Reflection, problem: GapKind) => gaps.push({ entry: entryName, name, kind: KIND_NAME[x.kind] ?? String(x.kind), problem });

    const visitMembers = (owner: Reflection, ownerName: string) => {
      const isClass = owner.kind === KIND.class;
      for (const m of owner.children ?? []) {
        if (m.inheritedFrom || m.flags?.isPrivate || m.flags?.isProtected || m.kind === KIND.constructor) continue;
        const name = `${ownerName}#${m.name}`;
        const c = commentOf(m);
        if (!c) add(name, m, "no TSDoc");
        else if (isClass && m.kind === KIND.method && !hasExample(m)) add(name, m, "no @example");
      }
    };

    const visit = (scope: Reflection, prefix: string) => {
      for (const x of scope.children ?? []) {
        if (x.kind === KIND.reference) continue;
        const name = `${prefix}${x.name}`;
        const c = commentOf(x);
        if (!c) add(name, x, "no TSDoc");
        else if ((x.kind === KIND.function || x.kind === KIND.class) && !hasExample(x)) add(name, x, "no @example");
        if (x.kind === KIND.namespace) visit(x, `${name}.`);
        if (x.kind === KIND.class || x.kind === KIND.interface) visitMembers(x, name);
      }
    };
    visit(entry, "");
  }
  return gaps;
}

function main(): void {
  const { project, warnings } = buildApiModel();
  const gaps = findGaps(project);
  const count = (p: GapKind, member: boolean) => gaps.filter((g) => g.problem === p && g.name.includes("#") === member).length;
  console.log(`exports: ${count("no TSDoc", false)} without TSDoc, ${count("no @example", false)} functions/classes without @example`);
  console.log(`members: ${count("no TSDoc", true)} without TSDoc, ${count("no @example", true)} methods without @example`);
  for (const g of gaps) console.log(`  ${gapKey(g)}`);
  console.log(`typedoc: ${warnings.length} warning(s)`);
  for (const w of warnings) console.log(`  ${w}`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  main();
}
