/** Its own module so the command line can show it in `inlet infer --help` without loading the readers. */
export const DEFAULT_SAMPLE_ROWS = 1000;
