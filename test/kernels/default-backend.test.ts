/**
 * Fast by default in Node (issue 14, item 2): Node's "safegrad" (src/index.node.ts, the "node"
 * export condition) and "safegrad/node" run the first op on the fastest backend, with no call;
 * SAFEGRAD_BACKEND picks another; the browser/bundler entry (src/index.browser.ts) loads the fast
 * kernels on first use by a dynamic import (a separate chunk), and `ready()` waits for them.
 * Each case runs in a fresh process, since the choice is made once per process.
 */
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const root = join(import.meta.dirname, "../..");
function backendAfterFirstOp(entry: string, env: Record<string, string> = {}, then = ""): string {
  const code = `import * as sg from ${JSON.stringify(join(root, entry))}; sg.tensor([1, 2]).add(1); ${then} console.log(sg.getBackend().name);`;
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

  it("the browser entry starts on the reference backend and is on wasm once ready() resolves, with no call", () => {
    expect(backendAfterFirstOp("src/index.browser.ts")).toBe("js");
    expect(backendAfterFirstOp("src/index.browser.ts", {}, "console.log(await sg.ready());")).toBe("wasm");
    // ready() before any op starts the load too.
    expect(backendAfterFirstOp("src/index.browser.ts", {}, "await sg.ready(); sg.tensor([1]).neg();")).toBe("wasm");
  });

  it("a setBackend call made before the fast kernels arrive wins over the late default", () => {
    expect(backendAfterFirstOp("src/index.browser.ts", {}, `sg.setBackend("js"); await sg.ready();`)).toBe("js");
  });

  it("the API entry without side effects (src/index.ts) stays on the reference backend; ready() resolves at once", () => {
    expect(backendAfterFirstOp("src/index.ts", {}, "await sg.ready();")).toBe("js");
  });

  it("Node's entry: ready() resolves to the backend already chosen", () => {
    expect(backendAfterFirstOp("src/index.node.ts", {}, `if (await sg.ready() !== "wasm") process.exit(3);`)).toBe("wasm");
  });
});
