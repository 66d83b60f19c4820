/**
 * The ONNX documentation runs: docs/onnx.md's export block (TypeScript, safegrad) and serve block
 * (plain JavaScript, onnxruntime-node) in fresh Node processes in one folder, and the README's three
 * lines on a digits MLP exported as `npm start` exports it (runs/digits/model.onnx). The logits are
 * checked against safegrad's.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { noGrad, randn, tensor } from "../../src/index.js";
import { saveOnnx } from "../../src/node.js";
import { buildModel, defaultModelConfig } from "../../examples/digits-models.js";
import { worstRelative } from "./helpers.js";

const root = join(import.meta.dirname, "../..");
const src = (f: string): string => JSON.stringify(pathToFileURL(join(root, "src", f)).href);

/** The ```lang blocks of a Markdown file, in order. */
function blocks(file: string, lang: string): string[] {
  const text = readFileSync(join(root, file), "utf8");
  return [...text.matchAll(new RegExp("^```" + lang + "\\n([\\s\\S]*?)^```", "gm"))].map((m) => m[1]!);
}

let dir: string;
beforeAll(() => {
  // a user's project folder: onnxruntime-node resolves from node_modules
  dir = mkdtempSync(join(tmpdir(), "safegrad-onnx-docs-"));
  writeFileSync(join(dir, "package.json"), JSON.stringify({ type: "module", private: true }));
  symlinkSync(join(root, "node_modules"), join(dir, "node_modules"), "dir");
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function run(file: string, code: string, loader = false): string {
  writeFileSync(join(dir, file), code);
  const args = loader ? ["--import", pathToFileURL(join(root, "node_modules/tsx/dist/esm/index.mjs")).href, file] : [file];
  const r = spawnSync(process.execPath, args, { cwd: dir, encoding: "utf8", env: { ...process.env, NODE_NO_WARNINGS: "1" } });
  expect(r.status, `${file}:\n${r.stderr}`).toBe(0);
  return r.stdout;
}

describe("docs/onnx.md", () => {
  it("the export block writes model.onnx, the serve block runs it at batch size 2 and gives safegrad's logits", () => {
    const [exportBlock] = blocks("docs/onnx.md", "ts");
    const [serveBlock] = blocks("docs/onnx.md", "js");
    expect(exportBlock).toMatch(/saveOnnx\("model\.onnx"/);
    // the export block, then safegrad's logits for the serve block's features
    const ts = exportBlock!.replace(/from "safegrad\/node"/g, `from ${src("node.ts")}`).replace(/from "safegrad"/g, `from ${src("index.ts")}`) +
      `\nimport { noGrad as __noGrad, tensor as __tensor } from ${src("index.ts")};\n` +
      `model.eval();\nconsole.log(JSON.stringify(Array.from(__noGrad(() => model.forward(__tensor([0.1, -2, 0.5, 3, 1, 1, 0, 0], { shape: [2, 4] }))).toTypedArray())));\n`;
    const want = JSON.parse(run("export.ts", ts, true).trim()) as number[];
    const out = run("serve.mjs", `${serveBlock!}\nconsole.log(JSON.stringify(Array.from(logits.data)));\n`).trim().split("\n");
    expect(out[0]).toBe("[ 2, 3 ]");
    const got = JSON.parse(out[1]!) as number[];
    expect(worstRelative(tensor(want, { shape: [2, 3] }), got)).toBeLessThan(1e-5);
  });
});

describe("README", () => {
  it("the three lines run runs/digits/model.onnx (the digits MLP as npm start exports it)", async () => {
    const [three] = blocks("README.md", "js").filter((b) => b.includes("runs/digits/model.onnx"));
    expect(three!.trim().split("\n")).toHaveLength(3);
    const model = buildModel(defaultModelConfig("mlp"));
    mkdirSync(join(dir, "runs/digits"), { recursive: true });
    await saveOnnx(join(dir, "runs/digits/model.onnx"), model, randn([1, 64]), { inputNames: ["image"], outputNames: ["logits"] });
    const out = run("readme.mjs", `${three!}\nconsole.log(JSON.stringify({ dims: logits.dims, data: Array.from(logits.data) }));\n`);
    const { dims, data } = JSON.parse(out) as { dims: number[]; data: number[] };
    expect(dims).toEqual([17, 10]);
    model.eval();
    const want = noGrad(() => model.forward(tensor(new Float32Array(17 * 64), { shape: [17, 64] })));
    expect(worstRelative(want, data)).toBeLessThan(1e-5);
  });
});
