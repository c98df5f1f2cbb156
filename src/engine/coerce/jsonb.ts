import type { Coercer, CopyTextBuffer } from '../copy-text.js';
import { asBuffer, failure, skipSpaces, trimEnd } from './bytes.js';
import { postgresJsonProblem } from './json-postgres.js';

/**
 * Valid JSON that PostgreSQL jsonb can store, emitted as the input text (COPY-escaped), not
 * re-serialized: PostgreSQL normalizes it, and re-serializing would lose number precision.
 */
export function makeJsonbCoercer(write: JsonWriter = writeEscaped): Coercer {
  return (src, start, end, out) => {
    const i = skipSpaces(src, start, end);
    const e = trimEnd(src, i, end);
    const text = asBuffer(src).toString('utf8', i, e);
    try {
      JSON.parse(text);
    } catch (error) {
      return failure(src, start, end, describeSyntaxError(error, text.length));
    }
    const problem = postgresJsonProblem(src, i, e);
    if (problem !== undefined) return problem;
    write(src, i, e, out);
    return undefined;
  };
}

/** Appends the validated JSON text `src[start, end)` in the COPY format being written. */
export type JsonWriter = (src: Uint8Array, start: number, end: number, out: CopyTextBuffer) => void;

function writeEscaped(src: Uint8Array, start: number, end: number, out: CopyTextBuffer): void {
  out.escaped(src, start, end);
}

/**
 * V8's messages quote the input at length; keep only where it went wrong so the reason stays
 * short. Their wording varies between Node versions, hence the plain fallback.
 */
function describeSyntaxError(error: unknown, length: number): string {
  const message = error instanceof Error ? error.message : '';
  const position = /at position (\d+)/.exec(message);
  if (message.includes('Unexpected end') || (position && Number(position[1]) >= length)) {
    return 'not valid JSON (ends too early)';
  }
  if (position) return `not valid JSON (at character ${Number(position[1]) + 1})`;
  const token = /^Unexpected token '(.+?)'/.exec(message);
  return token ? `not valid JSON (unexpected "${token[1]}")` : 'not valid JSON';
}
