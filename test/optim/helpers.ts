import { readFileSync } from "node:fs";
import { expect } from "vitest";
import type { ParamLike } from "../../src/optim/index.js";

export interface OptimizerCase {
  name: string;
  optimizer: "SGD" | "Adam" | "AdamW" | "RMSprop" | "Adagrad";
  kwargs: Record<string, unknown>;
  groups?: Array<{ params: number[]; [key: string]: unknown }>;
  shapes: number[][];
  init: number[][];
  grads: Array<Array<number[] | null>>;
  params: number[][][];
  state_dict?: { at_step: number; dict: { state: Record<string, Record<string, unknown>>; param_groups: unknown[] } };
}

export interface SchedulerSpec {
  name?: string;
  scheduler: string;
  kwargs?: Record<string, unknown>;
  children?: SchedulerSpec[];
  milestones?: number[];
  lambdas?: string[];
}

export interface SchedulerCase extends SchedulerSpec {
  name: string;
  base_lrs: number[];
  lrs: number[][];
  momentum?: number[][];
  metrics?: number[];
}

export interface Fixture {
  meta: { torch: string; steps: number };
  optimizers: OptimizerCase[];
  schedulers: SchedulerCase[];
}

export const fixture: Fixture = JSON.parse(
  readFileSync(new URL("../../fixtures/optim.json", import.meta.url), "utf8"),
) as Fixture;

/** PyTorch snake_case keyword → our camelCase option name (T_max → tMax, lr_decay → lrDecay). */
export function camel(key: string): string {
  const [head, ...rest] = key.split("_");
  return head!.toLowerCase() + rest.map((w) => w.charAt(0).toUpperCase() + w.slice(1)).join("");
}

export function camelKeys(o: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(o).map(([k, v]) => [camel(k), v]));
}

export function param(values: ArrayLike<number>, shape: readonly number[] = [values.length], f32 = false): ParamLike {
  return { storage: f32 ? Float32Array.from(values) : Float64Array.from(values), shape, grad: null };
}

export function setGrad(p: ParamLike, values: ArrayLike<number> | null): void {
  p.grad = values === null ? null : { storage: p.storage instanceof Float32Array ? Float32Array.from(values) : Float64Array.from(values) };
}

/** |actual - expected| <= rel * |expected| + abs, element-wise, with a readable failure. */
export function expectClose(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  what: string,
  rel = 1e-6,
  abs = 1e-12,
): void {
  expect(actual.length, `${what}: length`).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i]!;
    const e = expected[i]!;
    const ok = Math.abs(a - e) <= rel * Math.abs(e) + abs;
    if (!ok) expect.fail(`${what}[${i}]: got ${a}, expected ${e} (diff ${a - e})`);
  }
}
