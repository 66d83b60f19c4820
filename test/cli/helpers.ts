/** Running the repository's scripts as users do (node + tsx), for the CLI tests. */
import { spawn } from "node:child_process";
import { dirname, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

export const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const tsx = pathToFileURL(resolve(root, "node_modules/tsx/dist/esm/index.mjs")).href;

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/** `node --import tsx <script> ...args` from `cwd` (default: the repository), killed after `timeoutMs`. */
export function runScript(script: string, args: string[], options: { cwd?: string; timeoutMs?: number } = {}): Promise<RunResult> {
  const t0 = Date.now();
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, ["--import", tsx, resolve(root, script), ...args], {
      cwd: options.cwd ?? root,
      env: { ...process.env, NODE_NO_WARNINGS: "1", FORCE_COLOR: "0" },
      stdio: ["ignore", "pipe", "pipe"],
      timeout: options.timeoutMs ?? 60_000,
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("error", fail);
    child.on("close", (code) => done({ code, stdout, stderr, ms: Date.now() - t0 }));
  });
}

/** The lines of `s` without empty ones. */
export const lines = (s: string): string[] => s.split("\n").filter((l) => l.trim() !== "");
