/**
 * Documentation that runs: the ```ts blocks of README.md and docs/nan-guide.md (each in its own
 * Node process, output compared with the ```text block that follows it), and the TSDoc
 * `@example` blocks of the public API (see tsdoc-examples.ts).
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { extractSnippets, normalizeOutput, root, runSnippet } from "./snippets.js";
import { extractTsdocExamples, internalOwner, runTsdocExample } from "./tsdoc-examples.js";

const DOCS = ["README.md", "docs/nan-guide.md"];

for (const doc of DOCS) {
  const snippets = extractSnippets(readFileSync(join(root, doc), "utf8")).filter((s) => s.run);
  describe.concurrent(doc, () => {
    it("has examples", () => expect(snippets.length).toBeGreaterThan(0));
    for (const s of snippets) {
      it(`the example at line ${s.line} runs${s.expected ? " and prints what the page shows" : ""}`, async () => {
        const r = await runSnippet(s.code);
        expect(r.code, `${doc}:${s.line} exited with ${r.code}\n${r.stderr}`).toBe(0);
        if (s.expected) {
          expect(normalizeOutput(r.stdout), `${doc}:${s.line}: the output differs (update with npx tsx test/docs/snippets.ts ${doc} --write)`).toBe(
            normalizeOutput(s.expected.text),
          );
        }
      });
    }
  });
}

/**
 * Public @example blocks that are fragments needing data this harness cannot guess (shapes other
 * than the fixtures', files written by another example) or that do not run as written. Each is
 * "file | start of its first line". A new example must run; when one of these is fixed (made
 * self-contained), remove it here: the test fails until you do, so the list only shrinks.
 */
const KNOWN_FRAGMENTS: string[] = [];

describe("TSDoc @example blocks of the public API", () => {
  const examples = extractTsdocExamples().filter((ex) => !internalOwner(ex));
  const key = (ex: { where: string; code: string }) => `${ex.where.split(":")[0]} | ${ex.code.split("\n")[0]}`;
  const isKnown = (ex: { where: string; code: string }) => KNOWN_FRAGMENTS.some((k) => key(ex).startsWith(k));

  it("finds them", () => expect(examples.length).toBeGreaterThan(100));

  for (const ex of examples) {
    const known = isKnown(ex);
    it(`${ex.where}${known ? " (a known fragment)" : ""}`, async () => {
      const r = await runTsdocExample(ex.code);
      if (known) {
        expect(r.ok, `${ex.where} runs now: remove it from KNOWN_FRAGMENTS`).toBe(false);
      } else {
        expect(r.error, `${ex.where}:\n${ex.code}`).toBeUndefined();
      }
    });
  }
});
