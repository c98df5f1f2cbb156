/**
 * A deterministic stream of numbers in [0, 1) from a seed (a linear congruential generator): the same
 * seed makes the same values on every run, so a generated case that fails replays.
 */
export function seededRandom(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1_103_515_245 + 12_345) % 2_147_483_648;
    return state / 2_147_483_648;
  };
}
