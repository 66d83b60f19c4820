/**
 * Every script users run answers --help (usage on stdout, exit 0, no work done) and refuses an
 * unknown flag or a malformed value with one line naming it and exit 2 (issue 14: `npm run bench --
 * --help` ran the whole 277 s benchmark, unknown flags were ignored). Each script runs in a child
 * process from an empty folder, so a script that starts working (writes runs/, prints results)
 * is caught; the shared parser (scripts/cli.ts) is tested in-process below.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { CliError, formatHelp, parseArgv, type CliSpec, type OptionSpec } from "../../scripts/cli.js";
import { lines, root, runScript } from "./helpers.js";

interface ScriptCase {
  script: string;
  /** a malformed command line (besides an unknown flag) and the text its error must name */
  malformed: [string[], string];
}

const SCRIPTS: ScriptCase[] = [
  { script: "examples/train-digits.ts", malformed: [["--epochs", "ten"], "--epochs"] },
  { script: "examples/train-sequence.ts", malformed: [["--task", "poetry"], "--task"] },
  { script: "bench/run.ts", malformed: [["--threads", "3"], "--threads"] },
  { script: "examples/doctor.ts", malformed: [["now"], '"now"'] },
  { script: "examples/browser/serve.ts", malformed: [["--port", "http"], "--port"] },
  { script: "examples/browser/screenshot.ts", malformed: [["--epochs", "0"], "--epochs"] },
  { script: "bench/guard-overhead.ts", malformed: [["--backend", "gpu"], "--backend"] },
  { script: "bench/gemm-w4.ts", malformed: [["many"], "ROUNDS"] },
  { script: "bench/profile-ops.ts", malformed: [["wasm", "W9"], "WORKLOAD"] },
  { script: "bench/audit.ts", malformed: [["no-such-case"], "CASES"] },
  { script: "scripts/bundle-size.ts", malformed: [["--why=yes"], "--why"] },
  { script: "scripts/package-test.ts", malformed: [["--keep", "tmp"], '"tmp"'] },
];

const cwd = mkdtempSync(join(tmpdir(), "safegrad-cli-"));
afterAll(() => rmSync(cwd, { recursive: true, force: true }));

describe("every npm script that runs a file is covered here", () => {
  it("package.json", () => {
    const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { scripts: Record<string, string> };
    const files = Object.values(pkg.scripts).flatMap((cmd) => [...cmd.matchAll(/\btsx\s+(\S+\.ts)\b/g)].map((m) => m[1]!));
    expect(files.length).toBeGreaterThanOrEqual(5);
    for (const f of files) expect(SCRIPTS.map((s) => s.script), `${f} (from package.json) has no CLI test`).toContain(f);
  });
});

describe.concurrent("scripts: --help, unknown flags, malformed values", () => {
  for (const { script, malformed } of SCRIPTS) {
    it(`${script} --help prints the usage and exits 0 without working`, async () => {
      const r = await runScript(script, ["--help"], { cwd, timeoutMs: 60_000 });
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/^Usage: .+ \[options\]/m);
      expect(r.stdout).toMatch(/-h, --help/);
      expect(r.stderr).toBe("");
      expect(readdirSync(cwd), "the script wrote files").toEqual([]);
    });
    it(`${script} --no-such-flag: one line, exit 2`, async () => {
      const r = await runScript(script, ["--no-such-flag"], { cwd });
      expect(r.code, r.stdout + r.stderr).toBe(2);
      expect(lines(r.stderr)).toHaveLength(1);
      expect(r.stderr).toContain("unknown option --no-such-flag");
      expect(r.stdout).toBe("");
    });
    it(`${script} ${malformed[0].join(" ")}: one line, exit 2`, async () => {
      const r = await runScript(script, malformed[0], { cwd });
      expect(r.code, r.stdout + r.stderr).toBe(2);
      expect(lines(r.stderr)).toHaveLength(1);
      expect(r.stderr).toContain(malformed[1]);
      expect(r.stdout).toBe("");
    });
  }
});

describe("the shared parser (scripts/cli.ts)", () => {
  const spec = {
    command: "npx tsx demo.ts",
    description: "A demo.",
    options: {
      epochs: { type: "integer", default: 3, min: 1, help: "epochs" },
      lr: { type: "number", min: 0, help: "learning rate" },
      model: { type: "string", choices: ["mlp", "cnn"], default: "mlp", help: "model" },
      out: { type: "string", short: "o", help: "output" },
      resume: { type: "boolean", help: "resume" },
      child: { type: "string", hidden: true, help: "internal" },
    },
    positionals: [{ name: "ROUNDS", help: "rounds" }],
  } satisfies CliSpec<Record<string, OptionSpec>>;
  const parse = (...argv: string[]) => parseArgv(spec, argv);
  const error = (...argv: string[]): string => {
    try {
      parse(...argv);
    } catch (e) {
      if (e instanceof CliError) return e.message;
      throw e;
    }
    throw new Error(`no error for ${argv.join(" ")}`);
  };

  it("defaults, given flags and their forms", () => {
    const d = parse();
    expect(d.values).toEqual({ epochs: 3, lr: undefined, model: "mlp", out: undefined, resume: false, child: undefined });
    expect([...d.given]).toEqual([]);
    const p = parse("--epochs", "5", "--lr=1e-3", "-o", "dir", "--resume", "--model", "cnn", "7");
    expect(p.values).toEqual({ epochs: 5, lr: 0.001, model: "cnn", out: "dir", resume: true, child: undefined });
    expect([...p.given].sort()).toEqual(["epochs", "lr", "model", "out", "resume"]);
    expect(p.positionals).toEqual(["7"]);
    expect(parse("--", "--epochs").positionals).toEqual(["--epochs"]);
    expect(parse("--epochs", "2", "--epochs", "4").values.epochs).toBe(4);
  });

  it("--help wins wherever it is, even after an error", () => {
    expect(parse("--bogus", "-h").help).toBe(true);
    expect(parse("--epochs", "x", "--help").help).toBe(true);
    expect(parse("--", "--help").help).toBe(false);
  });

  it("names the flag of every malformed command line", () => {
    expect(error("--bogus")).toBe("unknown option --bogus");
    expect(error("--bogus=1")).toBe("unknown option --bogus");
    expect(error("-x")).toBe("unknown option -x");
    expect(error("--epochs")).toBe("--epochs needs a value (N)");
    expect(error("--out", "--resume")).toBe("--out needs a value (VALUE)");
    expect(error("--epochs", "2.5")).toBe('--epochs: expected an integer >= 1, got "2.5"');
    expect(error("--epochs", "0")).toBe('--epochs: expected an integer >= 1, got "0"');
    expect(error("--epochs=")).toBe('--epochs: expected an integer >= 1, got ""');
    expect(error("--lr", "-1")).toBe('--lr: expected a number >= 0, got "-1"');
    expect(error("--lr", "fast")).toBe('--lr: expected a number >= 0, got "fast"');
    expect(error("--model", "rnn")).toBe('--model: expected mlp or cnn, got "rnn"');
    expect(error("--resume=no")).toBe('--resume takes no value (got "no")');
    expect(error("1", "2")).toBe('unexpected argument "2" (at most 1: ROUNDS)');
    expect(() => parseArgv({ ...spec, positionals: [] }, ["x"])).toThrow('unexpected argument "x" (this command takes only flags)');
  });

  it("the help lists every flag but the hidden ones, with defaults", () => {
    const help = formatHelp(spec);
    expect(help).toMatch(/^A demo\.\n\nUsage: npx tsx demo\.ts \[options\] \[ROUNDS\]/);
    expect(help).toMatch(/--epochs N +epochs \(default 3\)/);
    expect(help).toMatch(/--model mlp\|cnn +model \(default mlp\)/);
    expect(help).toMatch(/-o, --out VALUE +output\n/);
    expect(help).toMatch(/--resume +resume\n/);
    expect(help).not.toContain("--child");
  });
});
