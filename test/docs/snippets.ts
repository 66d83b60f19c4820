/**
 * Executable documentation: pull the ```ts blocks out of a Markdown file and run each one as its
 * own program, so the examples in the README and the guides cannot go stale.
 *
 * - `from "safegrad"` and `from "safegrad/node"` are rewritten to the sources (same line count,
 *   so the line numbers in a NaN report match the block);
 * - each block runs in a fresh Node process under tsx (its own RNG, backend and anomaly state),
 *   written as `snippet.ts` in a temporary ES-module folder;
 * - a ```text block right after a ts block (blank lines and one line ending in ":" may sit
 *   between) is the expected output, compared after `normalizeOutput`;
 * - a block whose info string says `norun` (```ts norun) is shown but not run.
 *
 * `npx tsx test/docs/snippets.ts docs/nan-guide.md [--write]` prints every block's output, or with
 * --write pastes the real output into the ```text blocks.
 */
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

export const root = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");

export interface Snippet {
  /** 1-based line of the opening fence in the Markdown file. */
  line: number;
  code: string;
  run: boolean;
  /** The ```text block that follows, if any: the expected output. */
  expected?: { text: string; startLine: number; endLine: number };
}

const FENCE = /^```(\S*)(.*)$/;

/** The ts/typescript blocks of a Markdown text, with the output block that follows each. */
export function extractSnippets(markdown: string): Snippet[] {
  const lines = markdown.split("\n");
  const out: Snippet[] = [];
  let i = 0;
  const readBlock = (start: number): { body: string[]; end: number } => {
    const body: string[] = [];
    let j = start + 1;
    while (j < lines.length && !lines[j]!.startsWith("```")) body.push(lines[j++]!);
    if (j >= lines.length) throw new Error(`unclosed code fence at line ${start + 1}`);
    return { body, end: j };
  };
  while (i < lines.length) {
    const m = FENCE.exec(lines[i]!);
    if (!m) {
      i++;
      continue;
    }
    const lang = m[1]!.toLowerCase();
    const { body, end } = readBlock(i);
    if (lang === "ts" || lang === "typescript") {
      const snippet: Snippet = { line: i + 1, code: body.join("\n"), run: !/\bnorun\b/.test(m[2] ?? "") };
      // Look ahead for the output block.
      let k = end + 1;
      let proseSeen = false;
      for (; k < lines.length; k++) {
        const l = lines[k]!;
        if (l.trim() === "") continue;
        if (!proseSeen && !l.startsWith("```") && /:\s*$/.test(l)) {
          proseSeen = true;
          continue;
        }
        break;
      }
      const next = k < lines.length ? FENCE.exec(lines[k]!) : null;
      if (next && next[1] === "text") {
        const o = readBlock(k);
        snippet.expected = { text: o.body.join("\n"), startLine: k + 1, endLine: o.end + 1 };
      }
      out.push(snippet);
    }
    i = end + 1;
  }
  return out;
}

/** Point the package imports at the sources, keeping every line where it was. */
export function rewriteImports(code: string): string {
  const src = (entry: string) => JSON.stringify(pathToFileURL(join(root, "src", entry)).href);
  return code.replace(/from\s+"safegrad\/([a-z]+)"/g, (_, sub: string) => `from ${src(`${sub}.ts`)}`).replace(/from\s+"safegrad"/g, `from ${src("index.ts")}`);
}

/**
 * Make output comparable across machines: file paths in stack frames and call sites become the bare
 * file name ("snippet.ts:7:26"), and trailing spaces go.
 */
export function normalizeOutput(text: string): string {
  return text
    .replace(/(?:file:\/\/)?\/[^\s():]*\/([\w.-]+\.[cm]?[jt]s)(?=:\d)/g, "$1")
    .split("\n")
    .map((l) => l.trimEnd())
    .join("\n")
    .trim();
}

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

const tsxLoader = pathToFileURL(join(root, "node_modules", "tsx", "dist", "esm", "index.mjs")).href;

/** Run one snippet in a fresh Node process (tsx loader), from a temporary ES-module folder. */
export function runSnippet(code: string, options: { timeoutMs?: number } = {}): Promise<RunResult> {
  const dir = mkdtempSync(join(tmpdir(), "safegrad-doc-"));
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "package.json"), JSON.stringify({ type: "module", private: true }));
  writeFileSync(join(dir, "snippet.ts"), rewriteImports(code));
  return new Promise((done) => {
    const child = spawn(process.execPath, ["--import", tsxLoader, "snippet.ts"], {
      cwd: dir,
      env: { ...process.env, NODE_NO_WARNINGS: "1", SAFEGRAD_BACKEND: "" },
      timeout: options.timeoutMs ?? 60_000,
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("close", (code) => {
      rmSync(dir, { recursive: true, force: true });
      done({ code, stdout, stderr });
    });
  });
}

async function main(): Promise<void> {
  const file = process.argv[2];
  if (!file) {
    console.error("usage: npx tsx test/docs/snippets.ts <file.md> [--write]");
    process.exit(2);
  }
  const write = process.argv.includes("--write");
  const path = resolve(file);
  const text = readFileSync(path, "utf8");
  const snippets = extractSnippets(text).filter((s) => s.run);
  const results = await Promise.all(snippets.map((s) => runSnippet(s.code)));
  const lines = text.split("\n");
  // Replace from the bottom up so earlier line numbers stay valid.
  for (let i = snippets.length - 1; i >= 0; i--) {
    const s = snippets[i]!;
    const r = results[i]!;
    const out = normalizeOutput(r.stdout);
    console.log(`--- ${file}:${s.line} (exit ${r.code})\n${out}${r.stderr.trim() ? `\n[stderr]\n${r.stderr.trim()}` : ""}`);
    if (write && s.expected && r.code === 0) lines.splice(s.expected.startLine, s.expected.endLine - s.expected.startLine - 1, ...out.split("\n"));
  }
  if (write) {
    writeFileSync(path, lines.join("\n"));
    console.log(`updated the output blocks of ${file}`);
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  main().catch((e: unknown) => {
    console.error(e);
    process.exit(1);
  });
}
