import { type DateTimeFields, readFraction, readOffset } from './datetime-fields.js';

/** What a format string may ask for, e.g. `DD/MM/YYYY HH:mm`. */
const TOKENS = ['YYYY', 'MM', 'M', 'DD', 'D', 'HH', 'H', 'mm', 'ss', 'SSS', 'Z'] as const;
type TokenName = (typeof TOKENS)[number];

const SUPPORTED_TOKENS = TOKENS.join(' ');

/** One step of a compiled pattern: a field to read, or literal bytes to match. */
type Step =
  | { readonly kind: 'field'; readonly name: TokenName; readonly min: number; readonly max: number }
  | { readonly kind: 'literal'; readonly bytes: Uint8Array };

export interface DateTimePattern {
  readonly source: string;
  readonly steps: readonly Step[];
}

export type PatternTarget = 'date' | 'timestamp' | 'timestamptz';

/** Digit counts per field; 0 max means "as many as given" (the fraction). */
const WIDTHS: Record<TokenName, [number, number]> = {
  YYYY: [4, 4],
  MM: [2, 2],
  M: [1, 2],
  DD: [2, 2],
  D: [1, 2],
  HH: [2, 2],
  H: [1, 2],
  mm: [2, 2],
  ss: [2, 2],
  SSS: [1, 0],
  Z: [0, 0],
};

const TIME_TOKENS: ReadonlySet<TokenName> = new Set(['HH', 'H', 'mm', 'ss', 'SSS', 'Z']);

/**
 * Compiles a format once per column so matching a value is a walk over a few steps. Letters other
 * than the tokens (and `T`, the ISO date/time separator) are refused rather than taken literally,
 * because they are far more often a token spelled wrongly (`hh`, `YY`) than intended text.
 */
export function compileDateTimePattern(format: string, target: PatternTarget): DateTimePattern | string {
  if (format.length === 0) return 'format is empty';
  const steps: Step[] = [];
  const seen = new Set<string>();
  let literal = '';
  const flush = (): void => {
    if (literal !== '') steps.push({ kind: 'literal', bytes: Buffer.from(literal, 'utf8') });
    literal = '';
  };
  for (let i = 0; i < format.length; ) {
    const ch = format[i]!;
    if (!/[A-Za-z]/.test(ch) || ch === 'T') {
      if (/\p{Cc}/u.test(ch)) return `format "${format}" contains a control character`;
      literal += ch;
      i++;
      continue;
    }
    let run = 1;
    while (format[i + run] === ch) run++;
    const word = ch.repeat(run);
    const name = tokenFor(word);
    if (name === undefined) {
      return `format "${format}" has an unknown token "${word}"; supported: ${SUPPORTED_TOKENS}`;
    }
    const family = name === 'M' ? 'MM' : name === 'D' ? 'DD' : name === 'H' ? 'HH' : name;
    if (seen.has(family)) return `format "${format}" has "${word}" more than once`;
    seen.add(family);
    if (target === 'date' && TIME_TOKENS.has(name)) {
      return `format "${format}" has "${word}", but a date column holds no time`;
    }
    if (target === 'timestamp' && name === 'Z') {
      return `format "${format}" has a time zone offset (Z), but the column is timestamp without time zone`;
    }
    flush();
    const [min, max] = WIDTHS[name];
    steps.push({ kind: 'field', name, min, max });
    i += run;
  }
  flush();
  return checkPattern(format, steps, seen) ?? { source: format, steps };
}

function tokenFor(word: string): TokenName | undefined {
  if (word.startsWith('S')) return word.length <= 6 ? 'SSS' : undefined;
  return (TOKENS as readonly string[]).includes(word) ? (word as TokenName) : undefined;
}

function checkPattern(format: string, steps: readonly Step[], seen: ReadonlySet<string>): string | undefined {
  if (!seen.has('YYYY') || !seen.has('MM') || !seen.has('DD')) {
    return `format "${format}" must contain YYYY, MM (or M) and DD (or D)`;
  }
  const needs: [string, string][] = [
    ['mm', 'HH'],
    ['ss', 'mm'],
    ['SSS', 'ss'],
  ];
  for (const [token, needed] of needs) {
    if (seen.has(token) && !seen.has(needed)) return `format "${format}" has ${token} without ${needed}`;
  }
  for (let k = 0; k + 1 < steps.length; k++) {
    const step = steps[k]!;
    const next = steps[k + 1]!;
    // A variable-width number directly followed by another number has no unambiguous reading.
    if (step.kind === 'field' && step.min !== step.max && next.kind === 'field' && next.name !== 'Z') {
      return `format "${format}" needs a separator after "${step.name}" (it may have one or two digits)`;
    }
  }
  return undefined;
}

/** Matches the whole of `src[i, end)` against the pattern, filling `f`. */
export function matchDateTimePattern(
  pattern: DateTimePattern,
  src: Uint8Array,
  i: number,
  end: number,
  f: DateTimeFields,
): boolean {
  for (const step of pattern.steps) {
    if (step.kind === 'literal') {
      const bytes = step.bytes;
      if (end - i < bytes.length) return false;
      for (let k = 0; k < bytes.length; k++) if (src[i + k] !== bytes[k]) return false;
      i += bytes.length;
      continue;
    }
    if (step.name === 'Z') {
      i = readOffset(src, i, end, f);
    } else if (step.name === 'SSS') {
      i = readFraction(src, i, end, f);
    } else {
      i = readNumber(src, i, end, step.min, step.max, f, step.name);
    }
    if (i < 0) return false;
  }
  return i === end;
}

function readNumber(
  src: Uint8Array,
  i: number,
  end: number,
  min: number,
  max: number,
  f: DateTimeFields,
  name: TokenName,
): number {
  let value = 0;
  let count = 0;
  while (count < max && i < end) {
    const d = src[i]! - 0x30;
    if (d < 0 || d > 9) break;
    value = value * 10 + d;
    count++;
    i++;
  }
  if (count < min) return -1;
  switch (name) {
    case 'YYYY':
      f.year = value;
      break;
    case 'MM':
    case 'M':
      f.month = value;
      break;
    case 'DD':
    case 'D':
      f.day = value;
      break;
    case 'HH':
    case 'H':
      f.hour = value;
      break;
    case 'mm':
      f.minute = value;
      break;
    default:
      f.second = value;
  }
  return i;
}
