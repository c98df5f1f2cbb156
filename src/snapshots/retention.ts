/**
 * The retention planner: which snapshots a policy keeps and which it deletes. Pure (no clock, no I/O), so
 * both providers and the scheduler share it and property tests can run it over random histories.
 *
 * Rules, each counted on its own and the results united (as restic's `forget --keep-*`):
 * - `last: N` keeps the N newest snapshots;
 * - `daily: N` keeps the newest snapshot of each of the N newest days that have one (UTC days);
 * - `weekly: N` the same per ISO week (Monday to Sunday, UTC), `monthly: N` per calendar month (UTC).
 * A snapshot kept by any rule is kept; every other snapshot is deleted. Periods without a snapshot do not
 * count, so a policy never ends up keeping fewer snapshots because the host was off for a while.
 */
export type RetentionRule = 'last' | 'daily' | 'weekly' | 'monthly';

export interface RetentionRules {
  readonly last?: number | undefined;
  readonly daily?: number | undefined;
  readonly weekly?: number | undefined;
  readonly monthly?: number | undefined;
}

export interface Dated {
  readonly id: string;
  readonly createdAt: Date;
}

export interface RetentionPlan<T extends Dated> {
  /** Newest first, each with the rules that keep it. */
  readonly keep: ReadonlyArray<{ readonly snapshot: T; readonly reasons: readonly RetentionRule[] }>;
  /** Newest first. */
  readonly delete: readonly T[];
}

/** The default policy docs/snapshots.md shows, used when the config has no `snapshots.retention`. */
export const DEFAULT_RETENTION: Required<RetentionRules> = { last: 24, daily: 7, weekly: 4, monthly: 6 };

export const RETENTION_RULES: readonly RetentionRule[] = ['last', 'daily', 'weekly', 'monthly'];

/** Newest first; equal times fall back to the id so that the plan never depends on the input order. */
export function newestFirst<T extends Dated>(a: T, b: T): number {
  const byTime = b.createdAt.getTime() - a.createdAt.getTime();
  if (byTime !== 0) return byTime;
  return a.id < b.id ? 1 : a.id > b.id ? -1 : 0;
}

export function planRetention<T extends Dated>(
  snapshots: readonly T[],
  rules: RetentionRules,
): RetentionPlan<T> {
  const ordered = [...snapshots].sort(newestFirst);
  const reasons = new Map<T, RetentionRule[]>();
  const mark = (snapshot: T, rule: RetentionRule) => {
    const list = reasons.get(snapshot);
    if (list === undefined) reasons.set(snapshot, [rule]);
    else list.push(rule);
  };

  for (const snapshot of ordered.slice(0, count(rules.last))) mark(snapshot, 'last');
  for (const rule of ['daily', 'weekly', 'monthly'] as const) {
    const wanted = count(rules[rule]);
    const seen = new Set<string>();
    for (const snapshot of ordered) {
      if (seen.size >= wanted) break;
      const period = periodKey(rule, snapshot.createdAt);
      // The first snapshot met in a period is its newest, since the list is newest first.
      if (seen.has(period)) continue;
      seen.add(period);
      mark(snapshot, rule);
    }
  }

  const keep: Array<{ snapshot: T; reasons: RetentionRule[] }> = [];
  const doomed: T[] = [];
  for (const snapshot of ordered) {
    const why = reasons.get(snapshot);
    if (why === undefined) doomed.push(snapshot);
    else keep.push({ snapshot, reasons: why });
  }
  return { keep, delete: doomed };
}

/** A policy that keeps nothing at all is almost certainly a mistake: callers refuse it. */
export function keepsNothing(rules: RetentionRules): boolean {
  return RETENTION_RULES.every((rule) => count(rules[rule]) === 0);
}

export function describeRetention(rules: RetentionRules): string {
  return RETENTION_RULES.map((rule) => `${rule} ${count(rules[rule])}`).join(', ');
}

function count(value: number | undefined): number {
  return value === undefined || !Number.isFinite(value) || value < 0 ? 0 : Math.floor(value);
}

/** The UTC day, ISO week or month a time falls in, as a string that is equal for equal periods. */
export function periodKey(rule: 'daily' | 'weekly' | 'monthly', at: Date): string {
  const year = at.getUTCFullYear();
  const month = at.getUTCMonth() + 1;
  if (rule === 'monthly') return `${year}-${month}`;
  if (rule === 'daily') return `${year}-${month}-${at.getUTCDate()}`;
  // ISO 8601 week: the week belongs to the year of its Thursday.
  const day = new Date(Date.UTC(year, at.getUTCMonth(), at.getUTCDate()));
  const weekday = day.getUTCDay() || 7;
  day.setUTCDate(day.getUTCDate() + 4 - weekday);
  const weekYear = day.getUTCFullYear();
  const week = Math.ceil(((day.getTime() - Date.UTC(weekYear, 0, 1)) / 86_400_000 + 1) / 7);
  return `${weekYear}-W${week}`;
}
