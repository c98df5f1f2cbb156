/**
 * The retention planner over random histories (a seeded generator, so a failure names its seed and
 * reproduces), against a deliberately different reference: for each rule, group by period, take each
 * period's newest, keep the N newest periods.
 */
import { describe, expect, it } from 'vitest';
import {
  type Dated,
  keepsNothing,
  periodKey,
  planRetention,
  type RetentionRule,
  type RetentionRules,
} from '../../../src/snapshots/retention.js';

/** mulberry32: small, fast, and good enough to spread test cases. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const HOUR = 3600_000;
const DAY = 24 * HOUR;

function history(rand: () => number): Dated[] {
  const count = Math.floor(rand() * 120);
  // Spans from an hour to three years, with bursts (several per hour) and gaps (weeks without any).
  const span = [HOUR, DAY, 30 * DAY, 400 * DAY, 1100 * DAY][Math.floor(rand() * 5)] as number;
  const start = Date.UTC(2023, 0, 1) + Math.floor(rand() * 365 * DAY);
  const snapshots: Dated[] = [];
  for (let i = 0; i < count; i++) {
    const at =
      rand() < 0.2 && snapshots.length > 0
        ? (snapshots[snapshots.length - 1] as Dated).createdAt.getTime() + Math.floor(rand() * 10) * 60_000
        : start + Math.floor(rand() * span);
    snapshots.push({ id: `s${i.toString().padStart(4, '0')}`, createdAt: new Date(at) });
  }
  return snapshots;
}

function rules(rand: () => number): RetentionRules {
  const pick = () => (rand() < 0.2 ? undefined : Math.floor(rand() * 12));
  return { last: pick(), daily: pick(), weekly: pick(), monthly: pick() };
}

/** The reference: what a single rule keeps, computed another way (group, then sort the groups). */
function referenceKeep(snapshots: readonly Dated[], rule: RetentionRule, n: number): Set<Dated> {
  const newest = [...snapshots].sort(
    (a, b) => b.createdAt.getTime() - a.createdAt.getTime() || (a.id < b.id ? 1 : -1),
  );
  if (rule === 'last') return new Set(newest.slice(0, n));
  const groups = new Map<string, Dated>();
  for (const s of newest)
    if (!groups.has(periodKey(rule, s.createdAt))) groups.set(periodKey(rule, s.createdAt), s);
  const heads = [...groups.values()].sort(
    (a, b) => b.createdAt.getTime() - a.createdAt.getTime() || (a.id < b.id ? 1 : -1),
  );
  return new Set(heads.slice(0, n));
}

const RULES: readonly RetentionRule[] = ['last', 'daily', 'weekly', 'monthly'];

describe('planRetention over random histories', () => {
  const CASES = 600;

  it(`keeps exactly what some rule asks for, partitions the input, and is stable (${CASES} seeded cases)`, () => {
    for (let seed = 1; seed <= CASES; seed++) {
      const rand = random(seed);
      const snapshots = history(rand);
      const policy = rules(rand);
      const plan = planRetention(snapshots, policy);
      const kept = new Set(plan.keep.map((k) => k.snapshot));
      const deleted = new Set(plan.delete);
      const context = `seed ${seed}, policy ${JSON.stringify(policy)}`;

      // A partition: everything once, nothing invented.
      expect(kept.size + deleted.size, context).toBe(snapshots.length);
      for (const s of snapshots) expect(kept.has(s) !== deleted.has(s), context).toBe(true);

      // Never deletes what a rule keeps.
      const wanted = new Set<Dated>();
      for (const rule of RULES) {
        for (const s of referenceKeep(snapshots, rule, policy[rule] ?? 0)) {
          wanted.add(s);
          expect(deleted.has(s), `${context}: ${rule} keeps ${s.id}`).toBe(false);
        }
      }
      // Never keeps more than the rules ask: every kept one is wanted by some rule, and the sum bounds the count.
      for (const s of kept) expect(wanted.has(s), `${context}: ${s.id} kept by no rule`).toBe(true);
      const asked = RULES.reduce((sum, rule) => sum + (policy[rule] ?? 0), 0);
      expect(kept.size, context).toBeLessThanOrEqual(asked);
      // Each reason given is true.
      for (const { snapshot, reasons } of plan.keep) {
        for (const reason of reasons) {
          expect(referenceKeep(snapshots, reason, policy[reason] ?? 0).has(snapshot), context).toBe(true);
        }
      }
      // Planning again over what was kept deletes nothing: running prune twice is harmless.
      expect(planRetention([...kept], policy).delete, context).toEqual([]);
      // The input order does not matter.
      const shuffled = [...snapshots].sort(() => rand() - 0.5);
      expect(
        planRetention(shuffled, policy).delete.map((s) => s.id),
        context,
      ).toEqual(plan.delete.map((s) => s.id));
    }
  });
});

describe('planRetention examples', () => {
  const at = (iso: string, id = iso) => ({ id, createdAt: new Date(iso) });

  it('keeps the newest of each day for `daily`, counting only days that have snapshots', () => {
    const snapshots = [
      at('2026-03-01T01:00:00Z'),
      at('2026-03-01T23:00:00Z'),
      at('2026-03-05T12:00:00Z'),
      at('2026-03-09T08:00:00Z'),
      at('2026-03-09T09:00:00Z'),
    ];
    const plan = planRetention(snapshots, { daily: 2 });
    expect(plan.keep.map((k) => k.snapshot.id)).toEqual(['2026-03-09T09:00:00Z', '2026-03-05T12:00:00Z']);
    expect(plan.delete.map((s) => s.id)).toEqual([
      '2026-03-09T08:00:00Z',
      '2026-03-01T23:00:00Z',
      '2026-03-01T01:00:00Z',
    ]);
  });

  it('unites the rules and gives every reason', () => {
    const snapshots = [at('2026-01-31T10:00:00Z'), at('2026-02-01T10:00:00Z'), at('2026-02-02T10:00:00Z')];
    const plan = planRetention(snapshots, { last: 1, monthly: 2 });
    expect(plan.keep.map((k) => [k.snapshot.id, k.reasons])).toEqual([
      ['2026-02-02T10:00:00Z', ['last', 'monthly']],
      ['2026-01-31T10:00:00Z', ['monthly']],
    ]);
  });

  it('uses ISO weeks (Monday to Sunday; the week of 2027-01-01 belongs to 2026)', () => {
    expect(periodKey('weekly', new Date('2026-12-28T00:00:00Z'))).toBe('2026-W53');
    expect(periodKey('weekly', new Date('2027-01-03T23:59:59Z'))).toBe('2026-W53');
    expect(periodKey('weekly', new Date('2027-01-04T00:00:00Z'))).toBe('2027-W1');
  });

  it('treats an empty history and an empty policy plainly', () => {
    expect(planRetention([], { last: 3 })).toEqual({ keep: [], delete: [] });
    expect(keepsNothing({})).toBe(true);
    expect(keepsNothing({ last: 0, daily: 1 })).toBe(false);
  });
});
