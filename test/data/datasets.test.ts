import { describe, expect, it } from "vitest";
import {
  DIGITS_CLASSES,
  DIGITS_FEATURES,
  DIGITS_ROWS,
  loadDigits,
  loadIris,
  parseDigitsCsv,
  parseIrisCsv,
} from "../../src/data/index.js";

describe("loadDigits", () => {
  const d = loadDigits();

  it("has 1797 rows of 64 features and 10 classes", () => {
    expect(d.n).toBe(1797);
    expect(DIGITS_ROWS).toBe(1797);
    expect(d.features).toBe(64);
    expect(d.classes).toBe(10);
    expect(d.featureShape).toEqual([64]);
    expect(d.x).toBeInstanceOf(Float32Array);
    expect(d.y).toBeInstanceOf(Int32Array);
    expect(d.x.length).toBe(1797 * 64);
    expect(d.y.length).toBe(1797);
  });

  it("labels are 0..9 with the known class counts", () => {
    const counts = new Array<number>(DIGITS_CLASSES).fill(0);
    for (const c of d.y) {
      if (!(c >= 0 && c < 10)) throw new Error(`label ${c} out of range`);
      counts[c]!++;
    }
    expect(counts).toEqual([178, 182, 177, 183, 181, 182, 181, 179, 174, 180]);
  });

  it("pixels lie in [0, 1] and are multiples of 1/16 (raw counts 0..16)", () => {
    let min = Infinity;
    let max = -Infinity;
    let rawSum = 0;
    let nonInteger = 0;
    for (const v of d.x) {
      const raw = v * 16;
      if (!Number.isInteger(raw)) nonInteger++;
      min = Math.min(min, v);
      max = Math.max(max, v);
      rawSum += raw;
    }
    expect(nonInteger).toBe(0);
    expect(min).toBe(0);
    expect(max).toBe(1);
    // Checksums of the shipped file (computed independently with Python).
    expect(rawSum).toBe(561718);
    expect(d.y.reduce((a, b) => a + b, 0)).toBe(8070);
  });

  it("first row matches the file", () => {
    const first16 = Array.from(d.x.subarray(0, 16), (v) => v * 16);
    expect(first16).toEqual([0, 0, 5, 13, 9, 1, 0, 0, 0, 0, 13, 15, 10, 15, 5, 0]);
    expect(d.y[0]).toBe(0);
    expect(d.y[1796]).toBe(8);
  });

  it("returns fresh arrays on each call", () => {
    const e = loadDigits();
    expect(e.x === d.x).toBe(false);
    e.x[0] = 123;
    expect(loadDigits().x[0]).toBe(0);
  });
});

describe("loadIris", () => {
  it("has 150 rows, 4 features, 3 balanced classes", () => {
    const d = loadIris();
    expect(d.n).toBe(150);
    expect(d.features).toBe(4);
    expect(d.classes).toBe(3);
    expect(d.classNames).toEqual(["setosa", "versicolor", "virginica"]);
    expect(d.featureShape).toEqual([4]);
    expect(d.x.length).toBe(600);
    const counts = [0, 0, 0];
    for (const c of d.y) counts[c]!++;
    expect(counts).toEqual([50, 50, 50]);
    expect(Array.from(d.x.subarray(0, 4))).toEqual([5.1, 3.5, 1.4, 0.2].map(Math.fround));
    expect(Array.from(d.x.subarray(596))).toEqual([5.9, 3.0, 5.1, 1.8].map(Math.fround));
    let s = 0;
    for (const v of d.x) s += v;
    expect(s).toBeCloseTo(2078.7, 3);
  });

  it("standardize: each column has mean 0 and population std 1", () => {
    const d = loadIris({ standardize: true });
    for (let j = 0; j < 4; j++) {
      let m = 0;
      for (let i = 0; i < 150; i++) m += d.x[i * 4 + j]!;
      m /= 150;
      let v = 0;
      for (let i = 0; i < 150; i++) v += (d.x[i * 4 + j]! - m) ** 2;
      expect(m).toBeCloseTo(0, 5);
      expect(Math.sqrt(v / 150)).toBeCloseTo(1, 5);
    }
  });
});

const row = (pixels: number[], label: number | string) => [...pixels, label].join(",");
const zeros = new Array<number>(DIGITS_FEATURES).fill(0);

describe("parseDigitsCsv", () => {
  it("parses and scales; tolerates CRLF and blank lines", () => {
    const px = zeros.map((_, i) => i % 17);
    const d = parseDigitsCsv(`${row(px, 3)}\r\n\r\n${row(zeros, 9)}\n`);
    expect(d.n).toBe(2);
    expect(Array.from(d.y)).toEqual([3, 9]);
    expect(d.x[16]).toBe(1);
    expect(d.x[1]).toBe(1 / 16);
  });

  it("rejects malformed input with the line and field", () => {
    expect(() => parseDigitsCsv("")).toThrow(/no data rows/);
    expect(() => parseDigitsCsv(`${row(zeros, 1)}\n${row(zeros.slice(1), 1)}`)).toThrow(
      /line 2: expected 65 comma-separated values .* got 64/,
    );
    expect(() => parseDigitsCsv(row([17, ...zeros.slice(1)], 1))).toThrow(/line 1, field 1: pixel 17 outside 0\.\.16/);
    expect(() => parseDigitsCsv(row(zeros, 10))).toThrow(/line 1, field 65: label 10 outside 0\.\.9/);
    expect(() => parseDigitsCsv(row(zeros, -1))).toThrow(/label -1 outside/);
    expect(() => parseDigitsCsv(row(zeros, "1.5"))).toThrow(/field 65: "1.5" is not an integer/);
    expect(() => parseDigitsCsv(row(["0x1" as unknown as number, ...zeros.slice(1)], 1))).toThrow(/not an integer/);
    expect(() => parseDigitsCsv(row(zeros, ""))).toThrow(/not an integer/);
  });
});

describe("parseIrisCsv", () => {
  it("parses a minimal file", () => {
    const d = parseIrisCsv("2,2,a,b\n1.5,2,0\n-3,4e1,1\n");
    expect(d.n).toBe(2);
    expect(Array.from(d.x)).toEqual([1.5, 2, -3, 40]);
    expect(Array.from(d.y)).toEqual([0, 1]);
    expect(d.classNames).toEqual(["a", "b"]);
  });

  it("rejects malformed input", () => {
    expect(() => parseIrisCsv("")).toThrow(/empty file/);
    expect(() => parseIrisCsv("x,2,a\n1,2,0\n")).toThrow(/line 1: bad header/);
    expect(() => parseIrisCsv("2,2,a\n1,2,0\n")).toThrow(/announces 2 rows, found 1/);
    expect(() => parseIrisCsv("1,2,a\n1,2\n")).toThrow(/line 2: expected 3 comma-separated values, got 2/);
    expect(() => parseIrisCsv("1,2,a\n1,nan,0\n")).toThrow(/line 2, field 2: "nan" is not a finite number/);
    expect(() => parseIrisCsv("1,2,a\n1,2,1\n")).toThrow(/line 2, field 3: label 1 outside 0\.\.0/);
  });
});
