/** 2^32, to split an integer into the two 32-bit halves of an int64. */
const TWO_32 = 4_294_967_296;

/** Writes a safe integer (|value| ≤ 2^53 − 1) as a big-endian int64 without going through BigInt. */
export function putInt64(buf: Buffer, pos: number, value: number): void {
  const high = Math.floor(value / TWO_32);
  buf.writeInt32BE(high, pos);
  buf.writeUInt32BE(value - high * TWO_32, pos + 4);
}

/**
 * Writes `units * scale + rest` as a big-endian int64, exactly even where the product leaves the
 * doubles' exact range (timestamps beyond about ±285 years of 2000 in microseconds).
 */
export function putInt64Exact(buf: Buffer, pos: number, units: number, scale: number, rest: number): void {
  const value = units * scale + rest;
  if (Number.isSafeInteger(value)) putInt64(buf, pos, value);
  else buf.writeBigInt64BE(BigInt(units) * BigInt(scale) + BigInt(rest), pos);
}
