import type { CopyTextBuffer } from '../copy-text.js';
import { type DecimalParts, newDecimalParts, scanDecimal } from './decimal.js';

/**
 * float8 and float4 payloads for the float coercer's text output: the trimmed literal or `NaN`,
 * `Infinity`, `-Infinity`, all of which Number() reads. Number() rounds correctly to a double, as
 * float8in's strtod does.
 */
export function encodeFloat8(text: Buffer, length: number, out: CopyTextBuffer): void {
  out.ensure(8);
  out.pos = out.buf.writeDoubleBE(Number(text.toString('latin1', 0, length)), out.pos);
}

export function encodeFloat4(text: Buffer, length: number, out: CopyTextBuffer): void {
  out.ensure(4);
  out.pos = out.buf.writeFloatBE(toFloat4(text, length), out.pos);
}

const parts = newDecimalParts();
const float4 = new Float32Array(1);
const float4Bits = new Uint32Array(float4.buffer);
const float8 = new Float64Array(1);
const float8Bits = new BigUint64Array(float8.buffer);

/**
 * The literal rounded straight to the nearest float4, as float4in's strtof does. Math.fround of
 * the double rounds twice, which differs only when the double lands exactly halfway between two
 * float4 values while the literal itself is not: then the exact literal decides.
 */
function toFloat4(text: Buffer, length: number): number {
  const double = Number(text.toString('latin1', 0, length));
  const single = Math.fround(double);
  if (single === double || single === 0 || !Number.isFinite(single)) return single;
  const other = nextFloat4(single, double > single);
  if ((single + other) / 2 !== double) return single;
  scanDecimal(text, 0, length, parts);
  const side = compareWithDouble(text, parts, double);
  if (side === 0) return single;
  return side > 0 ? Math.max(single, other) : Math.min(single, other);
}

/** The adjacent float4 above or below `value` (nonzero and finite). */
function nextFloat4(value: number, up: boolean): number {
  float4[0] = value;
  float4Bits[0] = float4Bits[0]! + (value > 0 === up ? 1 : -1);
  return float4[0]!;
}

/** The sign of (the exact value of the scanned literal) − `double`, both of the same sign. */
function compareWithDouble(text: Buffer, scanned: DecimalParts, double: number): number {
  const digits =
    text.toString('latin1', scanned.intStart, scanned.intEnd) +
    text.toString('latin1', scanned.fracStart, scanned.fracEnd);
  const tenExponent = scanned.exponent - (scanned.fracEnd - scanned.fracStart);
  float8[0] = Math.abs(double);
  const bits = float8Bits[0]!;
  const biased = Number(bits >> 52n);
  const fraction = bits & 0xfffffffffffffn;
  const significand = biased === 0 ? fraction : fraction | 0x10000000000000n;
  const twoExponent = (biased === 0 ? 1 : biased) - 1075;
  let literal = BigInt(digits);
  let exact = significand;
  if (tenExponent >= 0) literal *= 10n ** BigInt(tenExponent);
  else exact *= 10n ** BigInt(-tenExponent);
  if (twoExponent >= 0) exact <<= BigInt(twoExponent);
  else literal <<= BigInt(-twoExponent);
  const magnitude = literal === exact ? 0 : literal > exact ? 1 : -1;
  return double < 0 ? -magnitude : magnitude;
}
