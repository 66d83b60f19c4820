/**
 * Which public exports lack a TSDoc comment, or an `@example` in it (the issue asks for both).
 * Builds TypeDoc's JSON model of the two entry points into a temporary file and reads it.
 *
 *   npx tsx test/docs/tsdoc-coverage.ts
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { root } from "./snippets.js";

interface Comment {
  blockTags?: { tag: string }[];
}
interface Reflection {
  name: string;
  kind: number;
  comment?: Comment;
  signatures?: { comment?: Comment }[];
  children?: Reflection[];
}

const KINDS: Record<number, string> = { 4: "namespace", 32: "variable", 64: "function", 128: "class", 256: "interface", 2097152: "type" };
const REFERENCE = 4194304; // a re-export of something already listed

const dir = mkdtempSync(join(tmpdir(), "safegrad-typedoc-"));
try {
  const out = join(dir, "api.json");
  const r = spawnSync(process.execPath, [join(root, "node_modules", "typedoc", "bin", "typedoc"), "--json", out, "--out", join(dir, "html"), "--logLevel", "Error"], { cwd: root, encoding: "utf8" });
  if (r.status !== 0) throw new Error(`typedoc failed:\n${r.stdout}${r.stderr}`);
  const project = JSON.parse(readFileSync(out, "utf8")) as Reflection;
  const commentOf = (x: Reflection): Comment | undefined => x.comment ?? x.signatures?.find((s) => s.comment)?.comment;
  for (const entry of project.children ?? []) {
    const noDoc: string[] = [];
    const noExample: string[] = [];
    for (const x of entry.children ?? []) {
      if (x.kind === REFERENCE) continue;
      const c = commentOf(x);
      const label = `${x.name} (${KINDS[x.kind] ?? x.kind})`;
      if (!c) noDoc.push(label);
      else if (!(c.blockTags ?? []).some((t) => t.tag === "@example")) noExample.push(label);
    }
    console.log(`entry "${entry.name}": ${noDoc.length} exports without TSDoc, ${noExample.length} with TSDoc but no @example`);
    if (noDoc.length) console.log(`  without TSDoc: ${noDoc.join(", ")}`);
    if (noExample.length) console.log(`  without @example: ${noExample.join(", ")}`);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
