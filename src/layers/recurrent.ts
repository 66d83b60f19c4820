/**
 * Recurrent layers as torch.nn: `RNN` (tanh / relu), `LSTM`, `GRU` and their cells, with
 * PyTorch's gate order (LSTM i, f, g, o; GRU r, z, n), parameter names (`weight_ih_l0`,
 * `bias_hh_l1_reverse`, ...), state-dict keys and default initialisation U(-1/√hidden, 1/√hidden).
 *
 * They are compositions of core ops (matmul, sigmoid, tanh, narrow/select, stack, cat), so their
 * gradients come from the op table; the autograd engine is iterative, so a long sequence does not
 * overflow the stack. Exploding gradients, the classic RNN failure, are best handled with
 * `clipGradNorm(model.parameters(), maxNorm)` after `backward()`.
 */
import { ShapeError, ValueError } from "../errors.js";
import * as F from "../ops/index.js";
import { zeros } from "../tensor/create.js";
import { getDefaultDtype, type FloatDType } from "../tensor/dtype.js";
import type { Generator } from "../tensor/random.js";
import { shapeStr } from "../tensor/shape.js";
import type { Tensor } from "../tensor/tensor.js";
import * as LF from "./functional.js";
import * as init from "./init.js";
import { checkSize, type LayerOptions } from "./linear.js";
import { Module } from "./module.js";

/** The cell computations an RNN layer runs. */
type Mode = "RNN_TANH" | "RNN_RELU" | "LSTM" | "GRU";

const GATES: Record<Mode, number> = { RNN_TANH: 1, RNN_RELU: 1, LSTM: 4, GRU: 3 };

/** The hidden state (and for LSTM the cell state) carried between steps. */
interface State {
  h: Tensor;
  c?: Tensor;
}

/**
 * One step. `gi` is the input projection x W_ihᵀ + b_ih [B, G·H], already computed; the hidden
 * projection is added here. Returns the next state.
 */
function step(mode: Mode, gi: Tensor, s: State, wHh: Tensor, bHh: Tensor | null, hidden: number): State {
  const gh = LF.linear(s.h, wHh, bHh);
  if (mode === "RNN_TANH") return { h: gi.add(gh).tanh() };
  if (mode === "RNN_RELU") return { h: gi.add(gh).relu() };
  if (mode === "LSTM") {
    const g = gi.add(gh);
    const i = F.narrow(g, -1, 0, hidden).sigmoid();
    const f = F.narrow(g, -1, hidden, hidden).sigmoid();
    const cand = F.narrow(g, -1, 2 * hidden, hidden).tanh();
    const o = F.narrow(g, -1, 3 * hidden, hidden).sigmoid();
    const c = f.mul(s.c!).add(i.mul(cand));
    return { h: o.mul(c.tanh()), c };
  }
  // GRU: n = tanh(W_in x + b_in + r * (W_hn h + b_hn)), h' = (1 - z) * n + z * h
  const r = F.narrow(gi, -1, 0, hidden).add(F.narrow(gh, -1, 0, hidden)).sigmoid();
  const z = F.narrow(gi, -1, hidden, hidden).add(F.narrow(gh, -1, hidden, hidden)).sigmoid();
  const n = F.narrow(gi, -1, 2 * hidden, hidden).add(r.mul(F.narrow(gh, -1, 2 * hidden, hidden))).tanh();
  return { h: n.add(z.mul(s.h.sub(n))) };
}

function resetUniform(params: readonly (Tensor | null)[], hidden: number, generator?: Generator): void {
  const k = hidden > 0 ? 1 / Math.sqrt(hidden) : 0;
  for (const p of params) if (p) init.uniform(p, { a: -k, b: k, generator });
}

/** Options shared by `RNN`, `LSTM` and `GRU`. */
export interface RNNBaseOptions extends LayerOptions {
  /** Number of stacked layers (default 1). */
  numLayers?: number;
  /** Learn the biases b_ih and b_hh (default true). */
  bias?: boolean;
  /** Input and output are [batch, seq, feature] instead of [seq, batch, feature] (default false). */
  batchFirst?: boolean;
  /** Dropout probability on the outputs of every layer but the last, in training mode (default 0). */
  dropout?: number;
  /** Run a second, reversed pass and concatenate both (default false). */
  bidirectional?: boolean;
}

/** Options of `RNN`. */
export interface RNNOptions extends RNNBaseOptions {
  /** "tanh" (default) or "relu". */
  nonlinearity?: "tanh" | "relu";
}

/**
 * The shared implementation of `RNN`, `LSTM` and `GRU` (torch.nn.RNNBase): parameters, validation
 * and the layer / direction / time loops. Use one of the subclasses.
 * @example
 * const gru: RNNBase<Tensor> = new GRU(4, 8);
 * gru.hiddenSize; // 8
 */
export abstract class RNNBase<S> extends Module<[Tensor, S?], [Tensor, S]> {
  /** Features of each input step. */
  declare readonly inputSize: number;
  /** Features of the hidden state. */
  declare readonly hiddenSize: number;
  /** Number of stacked layers. */
  declare readonly numLayers: number;
  /** Whether the layers have biases. */
  declare readonly bias: boolean;
  /** Whether input and output are [batch, seq, feature]. */
  declare readonly batchFirst: boolean;
  /** Dropout probability between layers (training mode only). */
  declare readonly dropout: number;
  /** Whether there is a reversed pass. */
  declare readonly bidirectional: boolean;
  readonly #mode: Mode;
  readonly #generator: Generator | undefined;
  readonly #weights: Array<[Tensor, Tensor, Tensor | null, Tensor | null]> = [];

  /** @internal */
  constructor(mode: Mode, inputSize: number, hiddenSize: number, options: RNNBaseOptions) {
    super();
    const op = mode.startsWith("RNN") ? "RNN" : mode;
    checkSize(op, "inputSize", inputSize);
    checkSize(op, "hiddenSize", hiddenSize, 1);
    const numLayers = options.numLayers ?? 1;
    checkSize(op, "numLayers", numLayers, 1);
    const dropout = options.dropout ?? 0;
    if (!(dropout >= 0 && dropout <= 1)) throw new ValueError(op, `dropout must be in [0, 1], got ${dropout}`);
    this.#mode = mode;
    this.#generator = options.generator;
    this.inputSize = inputSize;
    this.hiddenSize = hiddenSize;
    this.numLayers = numLayers;
    this.bias = options.bias !== false;
    this.batchFirst = options.batchFirst === true;
    this.dropout = dropout;
    this.bidirectional = options.bidirectional === true;
    const dtype: FloatDType = options.dtype ?? getDefaultDtype();
    const G = GATES[mode] * hiddenSize;
    const dirs = this.bidirectional ? 2 : 1;
    for (let l = 0; l < numLayers; l++) {
      for (let d = 0; d < dirs; d++) {
        const sfx = `_l${l}${d === 1 ? "_reverse" : ""}`;
        const inSize = l === 0 ? inputSize : hiddenSize * dirs;
        const wIh = this.registerParameter(`weight_ih${sfx}`, zeros([G, inSize], { dtype }));
        const wHh = this.registerParameter(`weight_hh${sfx}`, zeros([G, hiddenSize], { dtype }));
        const bIh = this.bias ? this.registerParameter(`bias_ih${sfx}`, zeros([G], { dtype })) : null;
        const bHh = this.bias ? this.registerParameter(`bias_hh${sfx}`, zeros([G], { dtype })) : null;
        this.#weights.push([wIh, wHh, bIh, bHh]);
      }
    }
    this.resetParameters(options.generator);
  }

  /**
   * Re-draw every weight and bias from U(-1/√hiddenSize, 1/√hiddenSize), as PyTorch.
   * @example
   * new LSTM(4, 8).resetParameters(new Generator(0));
   */
  resetParameters(generator?: Generator): void {
    resetUniform(this.#weights.flat(), this.hiddenSize, generator);
  }

  /** @internal Pack the per-layer states into the public form. */
  protected abstract packState(h: Tensor, c: Tensor | null): S;
  /** @internal The hidden (and cell) state of the public form. */
  protected abstract unpackState(s: S): [Tensor, Tensor | null];

  /**
   * Run the sequence. x is [seq, batch, inputSize] ([batch, seq, inputSize] with batchFirst) or
   * unbatched [seq, inputSize]; the optional initial state has shape [numLayers · directions, batch,
   * hiddenSize] (zeros when absent). Returns [output, final state]: output [seq, batch, directions ·
   * hiddenSize] (batch first with batchFirst), holding the last layer's hidden state at every step.
   * @example
   * const rnn = new RNN(4, 8, { numLayers: 2 });
   * const [out, hN] = rnn.forward(randn([5, 3, 4]));
   * out.shape; // [5, 3, 8]
   * hN.shape; // [2, 3, 8]
   */
  forward(x: Tensor, state?: S): [Tensor, S] {
    const name = this.constructor.name;
    const dirs = this.bidirectional ? 2 : 1;
    const H = this.hiddenSize;
    const batched = x.ndim === 3;
    if (x.ndim !== 2 && x.ndim !== 3) throw new ShapeError(name, `input must be 2-D (unbatched) or 3-D, got ${shapeStr(x.shape)}`);
    if (x.shape[x.ndim - 1] !== this.inputSize) throw new ShapeError(name, `input ${shapeStr(x.shape)} must end with inputSize ${this.inputSize}`);
    // time-major, batched: [T, B, I]
    let seq = batched ? (this.batchFirst ? x.transpose(0, 1) : x) : x.unsqueeze(1);
    const T = seq.shape[0]!;
    const B = seq.shape[1]!;
    const lmode = this.#mode === "LSTM";
    let h0: Tensor;
    let c0: Tensor | null = null;
    if (state === undefined || state === null) {
      h0 = zeros([this.numLayers * dirs, B, H], { dtype: x.dtype });
      if (lmode) c0 = h0;
    } else {
      const [h, c] = this.unpackState(state);
      const want = batched ? [this.numLayers * dirs, B, H] : [this.numLayers * dirs, H];
      for (const [t, what] of [[h, "h0"], [c, "c0"]] as const) {
        if (t && shapeStr(t.shape) !== shapeStr(want)) throw new ShapeError(name, `${what} must have shape ${shapeStr(want)}, got ${shapeStr(t.shape)}`);
      }
      h0 = batched ? h : h.unsqueeze(1);
      c0 = c ? (batched ? c : c.unsqueeze(1)) : null;
    }
    const hN: Tensor[] = [];
    const cN: Tensor[] = [];
    for (let l = 0; l < this.numLayers; l++) {
      const outs: Tensor[] = [];
      for (let d = 0; d < dirs; d++) {
        const idx = l * dirs + d;
        const [wIh, wHh, bIh, bHh] = this.#weights[idx]!;
        const gi = LF.linear(seq, wIh, bIh); // [T, B, G·H]: one matmul for every step
        let s: State = { h: F.select(h0, 0, idx), c: c0 ? F.select(c0, 0, idx) : undefined };
        const hs: Tensor[] = new Array<Tensor>(T);
        for (let k = 0; k < T; k++) {
          const t = d === 0 ? k : T - 1 - k;
          s = step(this.#mode, F.select(gi, 0, t), s, wHh, bHh, H);
          hs[t] = s.h;
        }
        outs.push(T > 0 ? F.stack(hs, 0) : zeros([0, B, H], { dtype: x.dtype }));
        hN.push(s.h);
        if (s.c) cN.push(s.c);
      }
      seq = dirs === 1 ? outs[0]! : F.cat(outs, -1);
      if (l < this.numLayers - 1 && this.dropout > 0 && this.training) seq = LF.dropout(seq, { p: this.dropout, generator: this.#generator });
    }
    const out = batched ? (this.batchFirst ? seq.transpose(0, 1) : seq) : seq.squeeze(1);
    let h = F.stack(hN, 0);
    let c = lmode ? F.stack(cN, 0) : null;
    if (!batched) {
      h = h.squeeze(1);
      c = c ? c.squeeze(1) : null;
    }
    return [out, this.packState(h, c)];
  }

  override extraRepr(): string {
    let s = `${this.inputSize}, ${this.hiddenSize}`;
    if (this.numLayers !== 1) s += `, num_layers=${this.numLayers}`;
    if (!this.bias) s += ", bias=False";
    if (this.batchFirst) s += ", batch_first=True";
    if (this.dropout) s += `, dropout=${this.dropout}`;
    if (this.bidirectional) s += ", bidirectional=True";
    return s;
  }
}

/**
 * Elman RNN (torch.nn.RNN): h' = tanh(x W_ihᵀ + b_ih + h W_hhᵀ + b_hh) (or relu). `forward(x, h0?)`
 * returns [output, hN].
 * @example
 * const rnn = new RNN(4, 8, { nonlinearity: "relu", batchFirst: true });
 * const [out, hN] = rnn.forward(randn([3, 5, 4]));
 * out.shape; // [3, 5, 8]
 * hN.shape; // [1, 3, 8]
 */
export class RNN extends RNNBase<Tensor> {
  /** "tanh" or "relu". */
  declare readonly nonlinearity: "tanh" | "relu";
  /**
   * @param inputSize - features of each input step
   * @param hiddenSize - features of the hidden state
   * @param options - nonlinearity, numLayers, bias, batchFirst, dropout, bidirectional, dtype, generator
   */
  constructor(inputSize: number, hiddenSize: number, options: RNNOptions = {}) {
    const nl = options.nonlinearity ?? "tanh";
    if (nl !== "tanh" && nl !== "relu") throw new ValueError("RNN", `nonlinearity must be "tanh" or "relu", got ${String(nl)}`);
    super(nl === "tanh" ? "RNN_TANH" : "RNN_RELU", inputSize, hiddenSize, options);
    this.nonlinearity = nl;
  }
  protected packState(h: Tensor): Tensor {
    return h;
  }
  protected unpackState(s: Tensor): [Tensor, Tensor | null] {
    return [s, null];
  }
}

/**
 * Long short-term memory (torch.nn.LSTM), gates i, f, g, o in that order in every weight.
 * `forward(x, [h0, c0]?)` returns [output, [hN, cN]].
 * @example
 * const lstm = new LSTM(4, 8, { numLayers: 2, bidirectional: true });
 * const [out, [hN, cN]] = lstm.forward(randn([5, 3, 4]));
 * out.shape; // [5, 3, 16]
 * hN.shape; // [4, 3, 8]
 */
export class LSTM extends RNNBase<[Tensor, Tensor]> {
  /**
   * @param inputSize - features of each input step
   * @param hiddenSize - features of the hidden and cell states
   * @param options - numLayers, bias, batchFirst, dropout, bidirectional, dtype, generator
   */
  constructor(inputSize: number, hiddenSize: number, options: RNNBaseOptions = {}) {
    super("LSTM", inputSize, hiddenSize, options);
  }
  protected packState(h: Tensor, c: Tensor | null): [Tensor, Tensor] {
    return [h, c!];
  }
  protected unpackState(s: [Tensor, Tensor]): [Tensor, Tensor | null] {
    if (!Array.isArray(s) || s.length !== 2) throw new ValueError("LSTM", "the initial state must be [h0, c0]");
    return [s[0], s[1]];
  }
}

/**
 * Gated recurrent unit (torch.nn.GRU), gates r, z, n in that order, with PyTorch's
 * n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn)). `forward(x, h0?)` returns [output, hN].
 * @example
 * const gru = new GRU(4, 8);
 * const [out, hN] = gru.forward(randn([5, 3, 4]));
 * out.shape; // [5, 3, 8]
 */
export class GRU extends RNNBase<Tensor> {
  /**
   * @param inputSize - features of each input step
   * @param hiddenSize - features of the hidden state
   * @param options - numLayers, bias, batchFirst, dropout, bidirectional, dtype, generator
   */
  constructor(inputSize: number, hiddenSize: number, options: RNNBaseOptions = {}) {
    super("GRU", inputSize, hiddenSize, options);
  }
  protected packState(h: Tensor): Tensor {
    return h;
  }
  protected unpackState(s: Tensor): [Tensor, Tensor | null] {
    return [s, null];
  }
}

// ------------------------------------------------------------------ cells

/** Options of `RNNCell`, `LSTMCell` and `GRUCell`. */
export interface RNNCellOptions extends LayerOptions {
  /** Learn the biases b_ih and b_hh (default true). */
  bias?: boolean;
}

/** Options of `RNNCell`. */
export interface RNNCellLayerOptions extends RNNCellOptions {
  /** "tanh" (default) or "relu". */
  nonlinearity?: "tanh" | "relu";
}

/**
 * The shared implementation of `RNNCell`, `LSTMCell` and `GRUCell` (torch.nn.RNNCellBase).
 * @example
 * const cell: RNNCellBase<Tensor> = new GRUCell(4, 8);
 * cell.weight_ih.shape; // [24, 4]
 */
export abstract class RNNCellBase<S> extends Module<[Tensor, S?], S> {
  /** Features of the input. */
  declare readonly inputSize: number;
  /** Features of the hidden state. */
  declare readonly hiddenSize: number;
  /** Input weights [gates · hiddenSize, inputSize] (gates: 1, LSTM 4, GRU 3). */
  declare readonly weight_ih: Tensor;
  /** Hidden weights [gates · hiddenSize, hiddenSize]. */
  declare readonly weight_hh: Tensor;
  /** Input bias [gates · hiddenSize], or null with `bias: false`. */
  declare readonly bias_ih: Tensor | null;
  /** Hidden bias [gates · hiddenSize], or null with `bias: false`. */
  declare readonly bias_hh: Tensor | null;
  readonly #mode: Mode;

  /** @internal */
  constructor(mode: Mode, inputSize: number, hiddenSize: number, options: RNNCellOptions) {
    super();
    const op = `${mode === "LSTM" || mode === "GRU" ? mode : "RNN"}Cell`;
    checkSize(op, "inputSize", inputSize);
    checkSize(op, "hiddenSize", hiddenSize, 1);
    this.#mode = mode;
    this.inputSize = inputSize;
    this.hiddenSize = hiddenSize;
    const dtype: FloatDType = options.dtype ?? getDefaultDtype();
    const G = GATES[mode] * hiddenSize;
    this.weight_ih = this.registerParameter("weight_ih", zeros([G, inputSize], { dtype }));
    this.weight_hh = this.registerParameter("weight_hh", zeros([G, hiddenSize], { dtype }));
    const bias = options.bias !== false;
    this.bias_ih = this.registerParameter("bias_ih", bias ? zeros([G], { dtype }) : null);
    this.bias_hh = this.registerParameter("bias_hh", bias ? zeros([G], { dtype }) : null);
    this.resetParameters(options.generator);
  }

  /**
   * Re-draw every weight and bias from U(-1/√hiddenSize, 1/√hiddenSize), as PyTorch.
   * @example
   * new LSTMCell(4, 8).resetParameters(new Generator(0));
   */
  resetParameters(generator?: Generator): void {
    resetUniform([this.weight_ih, this.weight_hh, this.bias_ih, this.bias_hh], this.hiddenSize, generator);
  }

  /** @internal */
  protected run(x: Tensor, h: Tensor | undefined, c: Tensor | undefined): State {
    const name = this.constructor.name;
    if ((x.ndim !== 1 && x.ndim !== 2) || x.shape[x.ndim - 1] !== this.inputSize) {
      throw new ShapeError(name, `input must be [batch, ${this.inputSize}] or [${this.inputSize}], got ${shapeStr(x.shape)}`);
    }
    const batched = x.ndim === 2;
    const xb = batched ? x : x.unsqueeze(0);
    const want = [xb.shape[0]!, this.hiddenSize];
    const prep = (t: Tensor | undefined, what: string): Tensor => {
      if (!t) return zeros(want, { dtype: x.dtype });
      const tb = batched ? t : t.unsqueeze(0);
      if (shapeStr(tb.shape) !== shapeStr(want)) throw new ShapeError(name, `${what} must have shape ${shapeStr(batched ? want : [this.hiddenSize])}, got ${shapeStr(t.shape)}`);
      return tb;
    };
    const s0: State = { h: prep(h, "hx"), c: this.#mode === "LSTM" ? prep(c, "cx") : undefined };
    const s = step(this.#mode, LF.linear(xb, this.weight_ih, this.bias_ih), s0, this.weight_hh, this.bias_hh, this.hiddenSize);
    return batched ? s : { h: s.h.squeeze(0), c: s.c?.squeeze(0) };
  }

  override extraRepr(): string {
    return `${this.inputSize}, ${this.hiddenSize}${this.bias_ih ? "" : ", bias=False"}`;
  }
}

/**
 * One step of an Elman RNN (torch.nn.RNNCell): h' = tanh(x W_ihᵀ + b_ih + h W_hhᵀ + b_hh) (or relu).
 * x is [batch, inputSize] or [inputSize]; h defaults to zeros.
 * @example
 * const cell = new RNNCell(4, 8);
 * let h = cell.forward(randn([3, 4]));
 * h = cell.forward(randn([3, 4]), h);
 * h.shape; // [3, 8]
 */
export class RNNCell extends RNNCellBase<Tensor> {
  /** "tanh" or "relu". */
  declare readonly nonlinearity: "tanh" | "relu";
  /**
   * @param inputSize - features of the input
   * @param hiddenSize - features of the hidden state
   * @param options - nonlinearity, bias, dtype, generator
   */
  constructor(inputSize: number, hiddenSize: number, options: RNNCellLayerOptions = {}) {
    const nl = options.nonlinearity ?? "tanh";
    if (nl !== "tanh" && nl !== "relu") throw new ValueError("RNNCell", `nonlinearity must be "tanh" or "relu", got ${String(nl)}`);
    super(nl === "tanh" ? "RNN_TANH" : "RNN_RELU", inputSize, hiddenSize, options);
    this.nonlinearity = nl;
  }
  /**
   * The next hidden state.
   * @example
   * new RNNCell(4, 8).forward(randn([2, 4])).shape; // [2, 8]
   */
  forward(x: Tensor, h?: Tensor): Tensor {
    return this.run(x, h, undefined).h;
  }
}

/**
 * One LSTM step (torch.nn.LSTMCell), gates i, f, g, o. `forward(x, [h, c]?)` returns [h', c'].
 * @example
 * const cell = new LSTMCell(4, 8);
 * const [h, c] = cell.forward(randn([3, 4]));
 * cell.forward(randn([3, 4]), [h, c])[1].shape; // [3, 8]
 */
export class LSTMCell extends RNNCellBase<[Tensor, Tensor]> {
  /**
   * @param inputSize - features of the input
   * @param hiddenSize - features of the hidden and cell states
   * @param options - bias, dtype, generator
   */
  constructor(inputSize: number, hiddenSize: number, options: RNNCellOptions = {}) {
    super("LSTM", inputSize, hiddenSize, options);
  }
  /**
   * The next hidden and cell states.
   * @example
   * const [h, c] = new LSTMCell(4, 8).forward(randn([2, 4])); // each [2, 8]
   */
  forward(x: Tensor, state?: [Tensor, Tensor]): [Tensor, Tensor] {
    const s = this.run(x, state?.[0], state?.[1]);
    return [s.h, s.c!];
  }
}

/**
 * One GRU step (torch.nn.GRUCell), gates r, z, n, with n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn)).
 * @example
 * const cell = new GRUCell(4, 8);
 * cell.forward(randn([3, 4])).shape; // [3, 8]
 */
export class GRUCell extends RNNCellBase<Tensor> {
  /**
   * @param inputSize - features of the input
   * @param hiddenSize - features of the hidden state
   * @param options - bias, dtype, generator
   */
  constructor(inputSize: number, hiddenSize: number, options: RNNCellOptions = {}) {
    super("GRU", inputSize, hiddenSize, options);
  }
  /**
   * The next hidden state.
   * @example
   * new GRUCell(4, 8).forward(randn([2, 4])).shape; // [2, 8]
   */
  forward(x: Tensor, h?: Tensor): Tensor {
    return this.run(x, h, undefined).h;
  }
}
