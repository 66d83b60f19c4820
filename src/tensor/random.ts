import { ValueError } from "../errors.js";

/**
 * A small, seedable pseudo-random generator that gives the same numbers on every platform.
 *
 * NOTE: xoshiro128** uses only 32-bit integer arithmetic (Math.imul, >>>), so results do not
 * depend on the JS engine's float behaviour. The seed is expanded with splitmix32.
 * @example
 * const g = new Generator(42);
 * const noise = randn([2, 3], { generator: g });
 * g.random(); // a number in [0, 1)
 */
export class Generator {
  #s0 = 0;
  #s1 = 0;
  #s2 = 0;
  #s3 = 0;
  #spare: number | null = null;

  /**
   * @param seed - any number; its integer part modulo 2^32 is used (default 0)
   */
  constructor(seed = 0) {
    this.manualSeed(seed);
  }

  /**
   * Re-seed: the same seed always gives the same sequence.
   * @example
   * const g = new Generator();
   * const u1 = g.manualSeed(7).random();
   * g.manualSeed(7).random() === u1; // true
   */
  manualSeed(seed: number): this {
    let x = (Math.floor(seed) >>> 0) ^ 0x9e3779b9;
    const next = (): number => {
      x = (x + 0x9e3779b9) | 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.#s0 = next();
    this.#s1 = next();
    this.#s2 = next();
    this.#s3 = next();
    if ((this.#s0 | this.#s1 | this.#s2 | this.#s3) === 0) this.#s0 = 1;
    this.#spare = null;
    return this;
  }

  /**
   * Next 32-bit unsigned integer.
   * @example
   * new Generator(1).nextU32(); // an integer in [0, 2^32)
   */
  nextU32(): number {
    const result = Math.imul(rotl(Math.imul(this.#s1, 5), 7), 9) >>> 0;
    const t = this.#s1 << 9;
    this.#s2 ^= this.#s0;
    this.#s3 ^= this.#s1;
    this.#s1 ^= this.#s2;
    this.#s0 ^= this.#s3;
    this.#s2 ^= t;
    this.#s3 = rotl(this.#s3, 11);
    return result;
  }

  /**
   * Uniform in [0, 1) with 53 random bits.
   * @example
   * new Generator(1).random();
   */
  random(): number {
    const hi = this.nextU32() >>> 5; // 27 bits
    const lo = this.nextU32() >>> 6; // 26 bits
    return (hi * 67108864 + lo) / 9007199254740992;
  }

  /**
   * Uniform integer in [low, high).
   * @example
   * new Generator(1).randint(0, 6); // a die roll, 0..5
   */
  randint(low: number, high: number): number {
    const span = high - low;
    if (!(span > 0)) throw new ValueError("randint", `empty range [${low}, ${high})`);
    return low + Math.floor(this.random() * span);
  }

  /**
   * Standard normal (Box-Muller, caching the second value).
   * @example
   * new Generator(1).normal();
   */
  normal(): number {
    if (this.#spare !== null) {
      const s = this.#spare;
      this.#spare = null;
      return s;
    }
    // u = 0 has probability 2^-53; a second 0 in a row cannot come from a valid state. NOTE: no
    // loop, so even a broken state cannot make this spin.
    const u = this.random() || this.random() || 2 ** -53;
    const v = this.random();
    const r = Math.sqrt(-2 * Math.log(u));
    this.#spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }

  /**
   * In-place Fisher-Yates shuffle; returns `arr`.
   * @example
   * new Generator(1).shuffle([1, 2, 3, 4]);
   */
  shuffle<T>(arr: T[]): T[] {
    for (let i = arr.length - 1; i > 0; i--) {
      const j = Math.floor(this.random() * (i + 1));
      const tmp = arr[i] as T;
      arr[i] = arr[j] as T;
      arr[j] = tmp;
    }
    return arr;
  }

  /**
   * Full state, for checkpoints (restore it with `setState`).
   * @example
   * const g = new Generator(3);
   * const saved = g.getState();
   * const first = g.random();
   * g.setState(saved);
   * g.random() === first; // true
   */
  getState(): number[] {
    // as unsigned words, so equal states compare equal (the words are kept signed or not)
    return [this.#s0 >>> 0, this.#s1 >>> 0, this.#s2 >>> 0, this.#s3 >>> 0, this.#spare ?? NaN];
  }

  /**
   * Restore a state from `getState()`: the sequence continues from where it was saved. The state
   * is checked before anything changes: 5 numbers, the first four integers in [0, 2^32) and not
   * all 0 (xoshiro's one invalid state: it would only ever give 0), the fifth the cached normal
   * value, in (-9, 9), or NaN (none); anything else throws a {@link ValueError}.
   * @example
   * const g = new Generator(3);
   * g.setState(new Generator(3).getState());
   */
  setState(state: readonly number[]): void {
    const [s0, s1, s2, s3, spare] = Array.isArray(state) && state.length === 5 ? state : [];
    // NOTE: |spare| < 9: Box-Muller's radius is at most sqrt(-2 ln 2^-53) < 8.6.
    if (![s0, s1, s2, s3].every((w) => Number.isInteger(w) && w! >= 0 && w! < 2 ** 32) || !(s0 || s1 || s2 || s3) || typeof spare !== "number" || !(Math.abs(spare) < 9 || Number.isNaN(spare))) {
      throw new ValueError("Generator.setState", "expected 4 integers in [0, 2^32), not all 0, then a number in (-9, 9) or NaN");
    }
    this.#s0 = s0! >>> 0;
    this.#s1 = s1! >>> 0;
    this.#s2 = s2! >>> 0;
    this.#s3 = s3! >>> 0;
    this.#spare = Number.isNaN(spare) ? null : spare!;
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

/**
 * The default generator used by rand/randn/randint/Dropout/init when none is passed.
 * @example
 * defaultGenerator.manualSeed(0); // the same as manualSeed(0)
 * const state = defaultGenerator.getState();
 */
export const defaultGenerator = new Generator(0);

/**
 * Seed the default generator (like torch.manual_seed); returns it.
 * @example
 * manualSeed(0);
 * const r1 = rand([2]);
 * manualSeed(0);
 * rand([2]).eq(r1).toArray(); // [true, true]: the same numbers again
 */
export function manualSeed(seed: number): Generator {
  return defaultGenerator.manualSeed(seed);
}
