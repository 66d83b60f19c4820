/**
 * W6 check: the losses of the first training steps from the shared initial weights, for each
 * implementation (each in its own process), so a reader can see they train the same way:
 *   npx tsx bench/losses.ts [--steps 10] [--batch 32] [--backends wasm,tfjs-wasm,jax,jax-jit,torch]
 */
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { parseCli } from "../scripts/cli.js";
import { buildCases, type Impl } from "./common.js";

const { values: v } = parseCli(
  {
    command: "npx tsx bench/losses.ts",
    description: "The W6 losses of the first training steps on each implementation (one process each), from the same initial weights.",
    options: {
      steps: { type: "integer", default: 10, min: 1, value: "N", help: "training steps" },
      batch: { type: "integer", default: 32, min: 1, value: "B", help: "batch size" },
      backends: { type: "string", value: "LIST", help: "implementations (default wasm,js-fast,tfjs-wasm,jax,jax-jit,torch)" },
      child: { type: "string", hidden: true, help: "(internal) one implementation" },
    },
  },
  process.argv.slice(2),
);

async function load(name: string): Promise<Impl> {
  if (name === "tfjs-cpu" || name === "tfjs-wasm") return (await import("./impl-tfjs.js")).tfjsImpl(name === "tfjs-cpu" ? "cpu" : "wasm");
  if (name === "jax" || name === "jax-jit") return (await import("./impl-jax.js")).jaxImpl(name === "jax" ? "eager" : "jit");
  if (name === "torch") return (await import("./impl-torch.js")).torchImpl();
  return (await import("./impl-ours.js")).oursImpl(name);
}

if (v.child) {
  const impl = await load(v.child);
  await impl.init(1);
  const c = { ...buildCases(["W6"], false)[0]!, params: { batch: v.batch } };
  let losses: number[];
  if (impl.losses) losses = await impl.losses(c, v.steps);
  else {
    const run = await impl.prepare(c);
    losses = [];
    for (let i = 0; i < v.steps; i++) losses.push(Number(await run()));
  }
  process.stdout.write(`@@LOSSES@@${JSON.stringify(losses)}\n`);
  process.exit(0);
} else {
  const self = fileURLToPath(import.meta.url);
  for (const b of (v.backends ?? "wasm,js-fast,tfjs-wasm,jax,jax-jit,torch").split(",")) {
    const p = spawnSync(process.execPath, [...process.execArgv, self, ...process.argv.slice(2), "--child", b], { encoding: "utf8", maxBuffer: 16 << 20 });
    const m = /@@LOSSES@@(.*)/.exec(p.stdout ?? "");
    const ls = m ? (JSON.parse(m[1]!) as number[]).map((x) => x.toFixed(4)).join(" ") : `failed: ${(p.stderr ?? "").trim().split("\n").slice(-2).join(" | ")}`;
    console.log(`${b.padEnd(10)} ${ls}`);
  }
}
