/** 2^32, to split an integer into the two 32-bit halves of an int64. */
const TWO_32 = 4_294_967_296;

/** Writes a safe integer (|value| ≤ 2^53 − 1) as a big-endian int64 without going through BigInt. */
export function putInt64(buf: Buffer, pos: number, value: number): void {
  const high = Math.floor(value / TWO_32);
  put32(buf, pos, high);
  put32(buf, pos + 4, value - high * TWO_32);
}

/** The low 32 bits of an integer, big-endian (signed and unsigned alike). */
export function put32(buf: Uint8Array, pos: number, value: number): void {
  buf[pos] = (value >>> 24) & 0xff;
  buf[pos + 1] = (value >>> 16) & 0xff;
  buf[pos + 2] = (value >>> 8) & 0xff;
  buf[pos + 3] = value & 0xff;
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
