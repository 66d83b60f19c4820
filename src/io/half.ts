/**
 * 16-bit float formats widened to float32, bit for bit.
 *
 * NOTE: both conversions are exact (every float16 and bfloat16 value is a float32 value) and work on
 * the bit patterns, so NaN payloads, signed zeros and subnormals survive unchanged.
 */

/** float32 bit pattern (as an unsigned 32-bit number) of an IEEE 754 binary16 bit pattern. */
export function float16BitsToFloat32Bits(h: number): number {
  const sign = (h & 0x8000) << 16;
  const exp = (h >>> 10) & 0x1f;
  let mant = h & 0x3ff;
  if (exp === 0x1f) return (sign | 0x7f800000 | (mant << 13)) >>> 0; // inf / NaN, payload kept
  if (exp !== 0) return (sign | ((exp - 15 + 127) << 23) | (mant << 13)) >>> 0;
  if (mant === 0) return sign >>> 0; // signed zero
  // Subnormal binary16: value = mant * 2^-24. Normalise so the leading 1 becomes implicit.
  let e = -14;
  while ((mant & 0x400) === 0) {
    mant <<= 1;
    e -= 1;
  }
  return (sign | ((e + 127) << 23) | ((mant & 0x3ff) << 13)) >>> 0;
}

/** float32 bit pattern of a bfloat16 bit pattern: bfloat16 is the top half of a float32. */
export function bfloat16BitsToFloat32Bits(h: number): number {
  return (h << 16) >>> 0;
}
