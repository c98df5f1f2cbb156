/**
 * Commander actions return nothing, but a command's outcome is an exit code: main() hands every
 * command this wrapper, which records the code the command's function returns.
 */
// biome-ignore lint/suspicious/noExplicitAny: commander passes positional arguments, options and the command untyped.
export type Action = <A extends any[]>(run: (...args: A) => Promise<number>) => (...args: A) => Promise<void>;

/**
 * A command's function, imported when the command runs: building the command line (and printing its
 * help) then loads no command's dependencies, and `inlet ingest` none of the server's, the snapshots' or
 * the AWS SDK's (test/integration/cli/loaded-modules.test.ts holds this).
 */
// biome-ignore lint/suspicious/noExplicitAny: as Action, the arguments are commander's.
export function later<A extends any[]>(
  load: () => Promise<(...args: A) => Promise<number>>,
): (...args: A) => Promise<number> {
  return async (...args) => (await load())(...args);
}
