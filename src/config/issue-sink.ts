import type * as z from 'zod/mini';

/**
 * How a transform reports a problem: zod/mini hands it the parse payload, whose issue list it appends
 * to, where full zod also gave it `addIssue`. The issue takes the value being transformed as its input,
 * as `addIssue` did.
 */
export function issueSink(payload: z.core.ParsePayload): {
  addIssue(issue: { code: 'custom'; message: string; path?: PropertyKey[] }): void;
} {
  return { addIssue: (issue) => payload.issues.push({ input: payload.value, ...issue }) };
}
