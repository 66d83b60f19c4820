/**
 * One error hierarchy: every error safegrad throws extends SafegradError and carries a stable
 * string `code` (issue 12). (a) checks every exported error class; (b) scans src/ for bare
 * `throw new Error(` / `TypeError(` / `RangeError(`.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import * as sgMain from "../src/index.js";
import * as sgData from "../src/data.js";

const sg = { ...sgMain, ...sgData };
import { SafegradError, tensor } from "../src/index.js";

const root = fileURLToPath(new URL("..", import.meta.url));

/** Every exported class whose instances are Errors. */
const errorClasses = (Object.entries(sg) as [string, unknown][]).filter(
  (e): e is [string, new (...a: never[]) => Error] => typeof e[1] === "function" && e[1].prototype instanceof Error,
);

/** One instance of each, made the way the library makes them. */
const make: Record<string, () => Error> = {
  SafegradError: () => new sg.SafegradError("op", "message"),
  ShapeError: () => new sg.ShapeError("op", "message"),
  DTypeError: () => new sg.DTypeError("op", "message"),
  AutogradError: () => new sg.AutogradError("op", "message"),
  IndexError: () => new sg.IndexError("op", "message"),
  ValueError: () => new sg.ValueError("op", "message"),
  DataError: () => new sg.DataError("iris.csv", "empty file"),
  StateDictError: () => new sg.StateDictError(["a"], [], []),
  GradcheckError: () => new sg.GradcheckError({ name: "f", output: 0, input: 0, inputShape: [1], element: 0, analytic: 1, numeric: 2, difference: 1 } as never),
  OptimizerError: () => new sg.OptimizerError("Adam: invalid lr -1: expected a number >= 0"),
  CheckpointError: () => new sg.CheckpointError("the checkpoint has no optimizer state"),
  SafetensorsError: () => new sg.SafetensorsError("overlap", "data_offsets [0, 4] overlap", "w"),
  NonFiniteError: () => new sg.NonFiniteError(3, "loss is NaN", null),
  DisposedError: () => {
    const t = sg.zeros([2]).add(1);
    t.dispose();
    try {
      t.mul(2);
    } catch (e) {
      return e as Error;
    }
    throw new sg.SafegradError("test", "a disposed tensor did not throw");
  },
  AnomalyError: () => {
    try {
      sg.detectAnomaly(() => tensor([0], { requiresGrad: true }).log().sum().backward());
    } catch (e) {
      return e as Error;
    }
    throw new sg.SafegradError("test", "detectAnomaly did not throw");
  },
};

describe("(a) every exported error class extends SafegradError and has a code", () => {
  it("finds the error classes", () => {
    expect(errorClasses.length).toBeGreaterThanOrEqual(14);
    // a new error class needs a factory above, so it is checked too
    expect(errorClasses.map(([n]) => n).filter((n) => !(n in make))).toEqual([]);
  });

  for (const [name, cls] of errorClasses) {
    it(name, () => {
      expect(cls === SafegradError || cls.prototype instanceof SafegradError, `${name} does not extend SafegradError`).toBe(true);
      const e = make[name]!() as SafegradError;
      expect(e).toBeInstanceOf(cls);
      expect(e).toBeInstanceOf(SafegradError);
      expect(e.name).toBe(name);
      expect(typeof e.code).toBe("string");
      expect(e.code.length).toBeGreaterThan(0);
      expect(typeof e.op).toBe("string");
      // class codes are UPPER_SNAKE; SafetensorsError's are the finer lowercase problem codes
      expect(e.code).toMatch(name === "SafetensorsError" ? /^[a-z0-9]+(-[a-z0-9]+)*$/ : /^[A-Z]+(_[A-Z]+)*$/);
    });
  }

  it("each class has its own code", () => {
    const codes = errorClasses.filter(([n]) => n !== "SafetensorsError").map(([n]) => make[n]!() as SafegradError).map((e) => e.code);
    expect(new Set(codes).size).toBe(codes.length);
  });

  it("keeps the messages of OptimizerError, CheckpointError and SafetensorsError as they were", () => {
    const o = new sg.OptimizerError("Adam.loadStateDict: param_groups[0]: missing 'lr'");
    expect([o.message, o.op, o.code]).toEqual(["Adam.loadStateDict: param_groups[0]: missing 'lr'", "Adam.loadStateDict", "OPTIMIZER"]);
    const c = new sg.CheckpointError("unsupported checkpoint version 2");
    expect([c.message, c.op, c.code]).toEqual(["unsupported checkpoint version 2", "checkpoint", "CHECKPOINT"]);
    const s = new sg.SafetensorsError("overlap", "data_offsets [0, 4] overlap", "w");
    expect([s.message, s.op, s.code, s.problem, s.tensor]).toEqual(['safetensors: tensor "w": data_offsets [0, 4] overlap', "safetensors", "overlap", "data_offsets [0, 4] overlap", "w"]);
    expect(new sg.SafetensorsError("file-too-short", "file is 3 bytes, under 8").message).toBe("safetensors: file is 3 bytes, under 8");
  });

  it("what the library throws for bad input is one of them", () => {
    const codeOf = (f: () => unknown): string => {
      try {
        f();
      } catch (e) {
        expect(e).toBeInstanceOf(SafegradError);
        return (e as SafegradError).code;
      }
      throw new sg.SafegradError("test", "did not throw");
    };
    expect(codeOf(() => sg.add(sg.zeros([2]), sg.zeros([3])))).toBe("SHAPE");
    expect(codeOf(() => sg.setBackend("no-such-backend"))).toBe("VALUE");
    expect(codeOf(() => new sg.Generator().setState([0, 0, 0, 0, NaN]))).toBe("VALUE");
    expect(codeOf(() => sg.parseIrisCsv(""))).toBe("DATA");
    expect(codeOf(() => sg.trainTestSplit(1, { testFraction: 0.5, seed: 0 }))).toBe("VALUE");
    expect(codeOf(() => sg.deserialize(new Uint8Array(3)))).toBe("file-too-short");
    expect(codeOf(() => sg.deserialize([1, 2] as never))).toBe("VALUE");
  });
});

// ------------------------------------------------------------------ (b) no bare throws in src/

/**
 * Bare throws that are allowed, as "path:line text" prefixes, each with the reason. Empty: the
 * WASM code generator and the worker throw typed errors too (they run in the library's own
 * modules), so nothing needs an exception today.
 */
const ALLOWED: { where: string; why: string }[] = [];

const BARE = /\bthrow\s+(?:new\s+)?(?:Error|TypeError|RangeError)\s*\(/g;

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? sources(p) : p.endsWith(".ts") ? [p] : [];
  });
}

/** The bare throws in `text`, as "line: code" strings. */
function bareThrows(text: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(BARE)) {
    const line = text.slice(0, m.index).split("\n").length;
    out.push(`${line}: ${text.split("\n")[line - 1]!.trim()}`);
  }
  return out;
}

describe("(b) src/ throws no bare Error, TypeError or RangeError", () => {
  it("the scan finds a bare throw when there is one (so it can fail)", () => {
    expect(bareThrows(`function f() {\n  throw new Error("x");\n}`)).toEqual([`2: throw new Error("x");`]);
    expect(bareThrows(`throw new TypeError("x")`)).toHaveLength(1);
    expect(bareThrows(`throw  RangeError(\`x\`)`)).toHaveLength(1);
    expect(bareThrows(`throw new ValueError("op", "x"); throw new SafegradError("a", "b")`)).toEqual([]);
  });

  it("every file under src/", () => {
    const files = sources(join(root, "src"));
    expect(files.length).toBeGreaterThan(30);
    const found = files.flatMap((f) => bareThrows(readFileSync(f, "utf8")).map((t) => `${relative(root, f)}:${t}`));
    const unexpected = found.filter((f) => !ALLOWED.some((a) => f.startsWith(a.where)));
    expect(unexpected, "throw a SafegradError subclass instead (ValueError for a bad argument, ...)").toEqual([]);
  });
});
