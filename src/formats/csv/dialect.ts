/**
 * `csv.delimiter: auto`: which of `,` `;` tab `|` separates a file's fields, read from its first rows.
 * A German or Brazilian Excel writes `;` (its decimal separator is the comma), "Unicode text" a tab.
 */
import { CsvScanner } from './scanner.js';

export const DELIMITER_CANDIDATES = [',', ';', '\t', '|'] as const;

/** Rows looked at: enough to see a header and how regular the rows under it are. */
const SAMPLE_ROWS = 20;

export interface DelimiterHints {
  readonly quote: string;
  readonly escape: string;
  readonly header: boolean;
  /**
   * What the contract expects: the names its header should hold (compared trimmed and ignoring case),
   * and how many fields a row has. Absent when there is no contract yet (`inlet infer`).
   */
  readonly expected?: { readonly names: readonly string[]; readonly fieldCount: number };
  /** Chosen when the sample cannot tell (one column, no delimiter at all): the format's usual one. */
  readonly preferred: string;
  /** The sample is the whole file, so its last row is complete even without a line end. */
  readonly wholeFile: boolean;
}

interface Candidate {
  readonly delimiter: string;
  /** Field counts of the sampled rows, the header first. */
  readonly counts: readonly number[];
  readonly header: readonly string[];
}

/**
 * The delimiter that reads the sample best. With a contract: the one whose header holds most of the
 * contract's names (without a header, whose rows have the contract's field count most often); otherwise
 * the one splitting the first row into most fields while every sampled row agrees. Ties go to
 * `preferred`, then to the order of DELIMITER_CANDIDATES.
 */
export function detectDelimiter(sample: Buffer, hints: DelimiterHints): string {
  const candidates = DELIMITER_CANDIDATES.filter((d) => d !== hints.quote && d !== hints.escape).map((d) =>
    readSample(sample, d, hints),
  );
  const order = (c: Candidate) =>
    c.delimiter === hints.preferred ? -1 : DELIMITER_CANDIDATES.indexOf(c.delimiter as never);
  const ranked = candidates
    .map((candidate) => ({ candidate, score: scoreOf(candidate, hints) }))
    .sort((a, b) => compareScores(b.score, a.score) || order(a.candidate) - order(b.candidate));
  const best = ranked[0];
  return best === undefined || best.score.every((part) => part === 0)
    ? hints.preferred
    : best.candidate.delimiter;
}

/** Higher is better, compared part by part. */
function scoreOf(candidate: Candidate, hints: DelimiterHints): number[] {
  const [first = 0, ...rest] = candidate.counts;
  const agreeing = rest.filter((count) => count === first).length;
  // A delimiter that splits nothing explains nothing; it wins only by preference.
  const splits = first > 1 ? 1 : 0;
  if (hints.expected === undefined) return [splits, splits * agreeing, splits * first];
  if (hints.header) {
    const wanted = new Set(hints.expected.names.map(normalise));
    const named = candidate.header.filter((name) => wanted.has(normalise(name))).length;
    return [named, splits * agreeing, splits * first];
  }
  const fitting = candidate.counts.filter((count) => count === hints.expected?.fieldCount).length;
  return [fitting, splits * agreeing];
}

function compareScores(a: readonly number[], b: readonly number[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const difference = (a[i] ?? 0) - (b[i] ?? 0);
    if (difference !== 0) return difference;
  }
  return 0;
}

/**
 * Thrown by readSample's row handler once SAMPLE_ROWS rows are counted: the rest of the sample (up to 64 KiB,
 * scanned once per candidate by code not yet warmed up) would change nothing, and scanning it was about a tenth
 * of a small file's `inlet ingest`.
 */
const SAMPLE_FULL: unique symbol = Symbol('sample full');

function readSample(sample: Buffer, delimiter: string, hints: DelimiterHints): Candidate {
  const scanner = new CsvScanner({ delimiter, quote: hints.quote, escape: hints.escape });
  const counts: number[] = [];
  let header: string[] = [];
  const onRow = (buf: Buffer, fieldCount: number) => {
    if (counts.length === 0) {
      for (let i = 0; i < fieldCount; i++)
        header.push(buf.toString('utf8', scanner.starts[i], scanner.ends[i]));
    }
    counts.push(fieldCount);
    if (counts.length === SAMPLE_ROWS) throw SAMPLE_FULL;
  };
  try {
    // A copy: the scanner collapses doubled quotes in place, and the caller scans these bytes again.
    scanner.push(Buffer.from(sample), onRow);
    // Otherwise the sample's last row may be cut off: only its complete rows count.
    if (hints.wholeFile) scanner.finish(onRow);
  } catch (error) {
    // A sample this delimiter cannot even scan (a row past the size cap) reads as nothing.
    if (error !== SAMPLE_FULL) header = [];
  }
  return { delimiter, counts, header };
}

const normalise = (name: string) => name.trim().toLowerCase();
