/**
 * Fast by default in Node (issue 14, item 2): Node's "safegrad" (src/index.node.ts, the "node"
 * export condition) and "safegrad/node" run the first op on the fastest backend, with no call;
 * SAFEGRAD_BACKEND picks another; the browser entry (src/index.ts) keeps the reference backend.
 * Each case runs in a fresh process, since the choice is made once per process.
 */
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const root = join(import.meta.dirname, "../..");
function backendAfterFirstOp(entry: string, env: Record<string, string> = {}): string {
  const code = `import * as sg from ${JSON.stringify(join(root, entry))}; sg.tensor([1, 2]).add(1); console.log(sg.getBackend().name);`;
  const r = spawnSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", code], {
    cwd: root,
    env: { ...process.env, SAFEGRAD_BACKEND: "", SAFEGRAD_THREADS: "", ...env },
    encoding: "utf8",
  });
  if (r.status !== 0) throw new Error(r.stderr);
  return r.stdout.trim().split("\n").pop()!;
}

describe("the default backend", () => {
  it("Node's entry points choose wasm (SIMD here) on first use, with no call", () => {
    expect(backendAfterFirstOp("src/index.node.ts")).toBe("wasm");
    expect(backendAfterFirstOp("src/node.ts")).toBe("wasm");
  });

  it("SAFEGRAD_BACKEND picks another (js: the reference)", () => {
    expect(backendAfterFirstOp("src/index.node.ts", { SAFEGRAD_BACKEND: "js-fast" })).toBe("js-fast");
    expect(backendAfterFirstOp("src/node.ts", { SAFEGRAD_BACKEND: "js" })).toBe("js");
  });

  it("the browser entry keeps the small reference backend until registerFastBackends({ select: true })", () => {
    expect(backendAfterFirstOp("src/index.ts")).toBe("js");
  });
});
