/**
 * `npm run size`: what safegrad costs in a browser bundle.
 *
 * Bundles with esbuild (minify, platform "browser", format "esm") two entry points that import
 * the package "safegrad" (resolved to `src/index.ts`, the same modules `dist/` is compiled from):
 *
 *   whole    `export * from "safegrad"`: everything in the main entry;
 *   minimal  `import { tensor } from "safegrad"; tensor([1], { requiresGrad: true }).sum().backward()`.
 *
 * and prints the minified and gzip -9 sizes in KB (1 KB = 1024 bytes) against the targets
 * (whole ≤ 60 KB gzipped, minimal ≤ 20 KB). `--why` lists the modules in each bundle by size
 * (from esbuild's metafile). Exits 1 if a target is missed.
 *
 * `test/docs/tree-shaking.test.ts` uses `bundle()` from here to check that the minimal bundle
 * holds no layer code.
 */
import { build, type Metafile, type Plugin } from "esbuild";
import { dirname, relative, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { gzipSync } from "node:zlib";
import { parseCli } from "./cli.js";

export const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");

export const ENTRIES = {
  whole: `export * from "safegrad";`,
  minimal: `import { tensor } from "safegrad";\ntensor([1], { requiresGrad: true }).sum().backward();`,
} as const;

/** Gzipped-size targets in KB, from issue 7. */
// NOTE: budgets, not goals: structure is decided by clarity, bytes by tree-shaking (TF.js core + cpu is
// 89.5 KB gzipped, jax-js 78.6 KB).
export const TARGETS_KB: Record<keyof typeof ENTRIES, number> = { whole: 80, minimal: 20 };

/** Resolve "safegrad" and "safegrad/node" to the sources, as the package's "exports" map does for dist/. */
const safegradToSrc: Plugin = {
  name: "safegrad-to-src",
  setup(b) {
    b.onResolve({ filter: /^safegrad(\/node)?$/ }, (args) => ({
      path: resolve(root, "src", args.path === "safegrad" ? "index.ts" : "node.ts"),
    }));
  },
};

export interface BundleResult {
  code: string;
  minBytes: number;
  gzipBytes: number;
  metafile: Metafile;
  /** Source files in the bundle, relative to the repository, with their bytes in the output, largest first. */
  modules: { path: string; bytes: number }[];
}

/**
 * Bundle `contents` (an ES module that imports "safegrad") for the browser, minified.
 *
 * NOTE: `node:*` is marked external. The main entry is meant to be browser-safe, but it re-exports
 * from the `src/io/index.ts` and `src/data/index.ts` barrels, which also hold Node-only modules
 * (`io/fs.ts`, `data/files.ts`); esbuild resolves every import before it tree-shakes, so without
 * this the browser build fails with "Could not resolve node:fs". The Node-only modules are then
 * dropped as unused; `bundle()` throws if any `node:` import survives into the output.
 */
export async function bundle(contents: string, options: { minify?: boolean } = {}): Promise<BundleResult> {
  const r = await build({
    stdin: { contents, resolveDir: root, sourcefile: "entry.js", loader: "js" },
    bundle: true,
    minify: options.minify ?? true,
    platform: "browser",
    format: "esm",
    target: "es2022",
    write: false,
    metafile: true,
    logLevel: "silent",
    external: ["node:*"],
    plugins: [safegradToSrc],
  });
  const file = r.outputFiles[0];
  if (!file) throw new Error("esbuild produced no output");
  const output = Object.values(r.metafile.outputs)[0];
  const nodeImports = (output?.imports ?? []).filter((i) => i.path.startsWith("node:")).map((i) => i.path);
  if (nodeImports.length) throw new Error(`the browser bundle still imports ${[...new Set(nodeImports)].join(", ")}`);
  const modules = Object.entries(output?.inputs ?? {})
    .map(([path, v]) => ({ path: relative(root, resolve(root, path)), bytes: v.bytesInOutput }))
    .filter((m) => m.bytes > 0)
    .sort((a, b) => b.bytes - a.bytes);
  return { code: file.text, minBytes: file.contents.length, gzipBytes: gzipSync(file.contents, { level: 9 }).length, metafile: r.metafile, modules };
}

const kb = (bytes: number): string => (bytes / 1024).toFixed(1);

async function main(): Promise<void> {
  const { values } = parseCli({
    command: "npm run size --",
    description: `What safegrad costs in a browser bundle: esbuild (minify, platform browser, format esm) bundles
the whole main entry and a minimal import (tensor + backward); prints minified and gzipped sizes
against the budgets (whole <= ${TARGETS_KB.whole} KB, minimal <= ${TARGETS_KB.minimal} KB gzipped) and exits 1 if one is missed.`,
    options: { why: { type: "boolean", help: "list the modules in each bundle by size" } },
  });
  const why = values.why;
  let failed = false;
  console.log("esbuild, minify, platform browser, format esm; gzip -9 (node:zlib level 9); 1 KB = 1024 bytes\n");
  console.log("bundle    minified   gzipped   target (gzipped)");
  const results: [string, BundleResult][] = [];
  for (const [name, contents] of Object.entries(ENTRIES) as [keyof typeof ENTRIES, string][]) {
    const r = await bundle(contents);
    results.push([name, r]);
    const ok = r.gzipBytes <= TARGETS_KB[name] * 1024;
    failed ||= !ok;
    console.log(`${name.padEnd(8)} ${kb(r.minBytes).padStart(7)} KB ${kb(r.gzipBytes).padStart(6)} KB   ≤ ${TARGETS_KB[name]} KB ${ok ? "ok" : "MISSED"}`);
  }
  if (why) {
    for (const [name, r] of results) {
      console.log(`\n${name}: modules by minified bytes in the output`);
      for (const m of r.modules) console.log(`  ${String(m.bytes).padStart(7)}  ${m.path}`);
    }
  } else {
    console.log("\n(npm run size -- --why lists the modules in each bundle)");
  }
  if (failed) process.exit(1);
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  main().catch((e: unknown) => {
    console.error(e instanceof Error ? e.message : e);
    process.exit(1);
  });
}
