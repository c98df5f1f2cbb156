/**
 * Turns zod issues into the lines a person fixing inlet.config.yaml needs:
 * `inlet.config.yaml: pipelines[0].columns[2].type: unknown type "numbr"; supported: ...`.
 * Zod's stock wording ("Invalid input: expected string, received undefined") speaks of the
 * validator rather than of the file.
 */
import type * as z from 'zod/mini';

export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else {
      const key = String(segment);
      if (/^[A-Za-z_$][\w$-]*$/.test(key)) out += out === '' ? key : `.${key}`;
      else out += `[${JSON.stringify(key)}]`;
    }
  }
  return out === '' ? '(top level)' : out;
}

export function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'an empty value';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'string')
    return JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value);
  return String(value);
}

const EXPECTED: Record<string, string> = {
  string: 'a string',
  number: 'a number',
  int: 'a whole number',
  boolean: 'true or false',
  array: 'a list',
  object: 'a mapping',
};

function describeIssue(issue: z.core.$ZodIssue): { path: PropertyKey[]; message: string } {
  const path = [...issue.path];
  switch (issue.code) {
    case 'invalid_type': {
      if (issue.input === undefined) return { path, message: 'required' };
      if (issue.message && !issue.message.startsWith('Invalid input'))
        return { path, message: issue.message };
      const expected = EXPECTED[issue.expected] ?? issue.expected;
      const quoteHint =
        issue.expected === 'string' && (typeof issue.input === 'number' || typeof issue.input === 'boolean')
          ? ` (quote it: "${String(issue.input)}")`
          : '';
      return { path, message: `expected ${expected}, got ${describeValue(issue.input)}${quoteHint}` };
    }
    case 'invalid_value': {
      const options = issue.values.map((value) => JSON.stringify(value)).join(' | ');
      return { path, message: `expected one of ${options}, got ${describeValue(issue.input)}` };
    }
    case 'unrecognized_keys': {
      // One line per key, at the key itself, reads better than a list at the parent.
      const [only] = issue.keys;
      return issue.keys.length === 1 && only !== undefined
        ? { path: [...path, only], message: issue.message }
        : { path, message: issue.message };
    }
    case 'too_small':
    case 'too_big': {
      if (issue.message && !/^Too (small|big)/.test(issue.message)) return { path, message: issue.message };
      const bound = issue.code === 'too_small' ? issue.minimum : issue.maximum;
      const word = issue.code === 'too_small' ? 'least' : 'most';
      if (issue.origin === 'string') return { path, message: `must be at ${word} ${bound} characters long` };
      if (issue.origin === 'array') return { path, message: `must have at ${word} ${bound} items` };
      const strictly = issue.inclusive === false ? (issue.code === 'too_small' ? 'above' : 'below') : '';
      return {
        path,
        message: strictly ? `must be ${strictly} ${bound}` : `must be at ${word} ${bound}`,
      };
    }
    default:
      return { path, message: issue.message };
  }
}

/**
 * One line per issue, ordered as they appear in the file when `positionOf` can place them
 * (zod reports an object's own problems after its children's).
 */
export function formatIssues(
  issues: readonly z.core.$ZodIssue[],
  origin: string,
  positionOf: (path: readonly PropertyKey[]) => number = () => 0,
): string {
  return issues
    .map((issue, order) => ({ ...describeIssue(issue), order }))
    .map((entry) => ({ ...entry, position: positionOf(entry.path) }))
    .sort((a, b) => a.position - b.position || a.order - b.order)
    .map((entry) => `${origin}: ${formatPath(entry.path)}: ${entry.message}`)
    .join('\n');
}
