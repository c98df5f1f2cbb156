/**
 * Commander actions return nothing, but a command's outcome is an exit code: main() hands every
 * command this wrapper, which records the code the command's function returns.
 */
// biome-ignore lint/suspicious/noExplicitAny: commander passes positional arguments, options and the command untyped.
export type Action = <A extends any[]>(run: (...args: A) => Promise<number>) => (...args: A) => Promise<void>;
