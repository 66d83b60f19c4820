/**
 * The models of the digits example, built from a plain JSON config. `npm start` records the config
 * in its checkpoint (and in the weights file's metadata), so `--resume` rebuilds the model the
 * checkpoint holds without being told which one.
 */
import { BatchNorm2d, Conv2d, Dropout, Flatten, Linear, MaxPool2d, ReLU, Sequential } from "../src/index.js";

/** A multilayer perceptron: Linear + ReLU per hidden layer, Dropout after the first hidden layer. */
export interface MlpConfig {
  kind: "mlp";
  /** Layer widths from the input to the classes, e.g. [64, 128, 64, 10]. */
  sizes: number[];
  /** Dropout probability after the first hidden layer (0: none). */
  dropout: number;
}

/** A CNN: per entry of `channels`, a 3x3 convolution (padding 1), BatchNorm2d, ReLU, 2x2 max-pool; then Flatten and Linear. */
export interface CnnConfig {
  kind: "cnn";
  /** [channels, height, width] of one input image, e.g. [1, 8, 8]. */
  inputShape: [number, number, number];
  /** Output channels of each convolution block, e.g. [16, 32]. */
  channels: number[];
  classes: number;
}

export type ModelConfig = MlpConfig | CnnConfig;
export type ModelKind = ModelConfig["kind"];
export const MODEL_KINDS = ["mlp", "cnn"] as const satisfies readonly ModelKind[];

/** The models `npm start -- --model mlp|cnn` trains. */
export function defaultModelConfig(kind: ModelKind): ModelConfig {
  return kind === "mlp" ? { kind, sizes: [64, 128, 64, 10], dropout: 0.1 } : { kind, inputShape: [1, 8, 8], channels: [16, 32], classes: 10 };
}

/** The shape of one input sample. */
export function featureShape(c: ModelConfig): number[] {
  return c.kind === "mlp" ? [c.sizes[0]!] : [...c.inputShape];
}

export function buildModel(c: ModelConfig): Sequential {
  if (c.kind === "mlp") {
    const layers = [];
    for (let i = 1; i < c.sizes.length; i++) {
      layers.push(new Linear(c.sizes[i - 1]!, c.sizes[i]!));
      if (i < c.sizes.length - 1) {
        layers.push(new ReLU());
        if (i === 1 && c.dropout > 0) layers.push(new Dropout(c.dropout));
      }
    }
    return new Sequential(...layers);
  }
  const [inC, h, w] = c.inputShape;
  const layers = [];
  let prev = inC;
  for (const ch of c.channels) {
    layers.push(new Conv2d(prev, ch, 3, { padding: 1 }), new BatchNorm2d(ch), new ReLU(), new MaxPool2d(2));
    prev = ch;
  }
  const shrink = 2 ** c.channels.length;
  layers.push(new Flatten(), new Linear(prev * Math.floor(h / shrink) * Math.floor(w / shrink), c.classes));
  return new Sequential(...layers);
}

const isSize = (v: unknown, max: number): v is number => Number.isInteger(v) && (v as number) >= 1 && (v as number) <= max;

/**
 * A config read from a file, checked (it may be damaged or from elsewhere): returns it, or a
 * sentence saying what is wrong.
 */
export function checkModelConfig(v: unknown): ModelConfig | string {
  if (typeof v !== "object" || v === null) return "no model config";
  const o = v as Record<string, unknown>;
  if (o.kind === "mlp") {
    const { sizes, dropout } = o;
    if (!Array.isArray(sizes) || sizes.length < 2 || sizes.length > 16 || !sizes.every((s) => isSize(s, 1 << 14))) return "the mlp's sizes are not 2 to 16 widths from 1 to 16384";
    if (typeof dropout !== "number" || !(dropout >= 0 && dropout < 1)) return "the mlp's dropout is not a probability below 1";
    return { kind: "mlp", sizes: [...sizes], dropout };
  }
  if (o.kind === "cnn") {
    const { inputShape, channels, classes } = o;
    if (!Array.isArray(inputShape) || inputShape.length !== 3 || !inputShape.every((s) => isSize(s, 4096))) return "the cnn's inputShape is not [channels, height, width]";
    if (!Array.isArray(channels) || channels.length < 1 || channels.length > 8 || !channels.every((s) => isSize(s, 4096))) return "the cnn's channels are not 1 to 8 counts from 1 to 4096";
    const [c, h, w] = inputShape as [number, number, number];
    const shrink = 2 ** channels.length;
    if (h < shrink || w < shrink) return `a ${h}x${w} image cannot be pooled ${channels.length} times`;
    if (!isSize(classes, 1 << 14)) return "the cnn's classes is not a count";
    return { kind: "cnn", inputShape: [c, h, w], channels: [...channels], classes };
  }
  return `unknown model kind ${JSON.stringify(o.kind)?.slice(0, 40)}`;
}

/** "mlp 64-128-64-10" / "cnn 16-32" */
export function describeModel(c: ModelConfig): string {
  return c.kind === "mlp" ? `mlp ${c.sizes.join("-")}` : `cnn ${c.channels.join("-")}`;
}
