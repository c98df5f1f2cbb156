/** Its own module so the command line can show it in `inlet infer --help` without loading the readers. */
export const DEFAULT_SAMPLE_ROWS = 1000;

/**
 * Rows sampled when a file decides a contract with no one to review it: an `infer: true` pipeline's first
 * file, and the columns a file adds under `onDrift: evolve`.
 */
export const CONTRACT_SAMPLE_ROWS = 10_000;
