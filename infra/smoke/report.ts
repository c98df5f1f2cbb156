/** The pass/fail table the smoke test prints, one line per door, and the exit code it implies. */
import { DOOR_LABELS } from './door.js';
import type { DoorResult } from './run.js';

function seconds(ms: number | undefined): string {
  return ms === undefined ? '-' : `${(ms / 1000).toFixed(1)} s`;
}

export function reportTable(results: readonly DoorResult[]): string {
  const rows = [
    ['door', 'result', 'sent', 'in ledger', 'detail'],
    ...results.map((result) => [
      DOOR_LABELS[result.door],
      result.outcome === 'fail' ? 'FAIL' : result.outcome,
      seconds(result.sendMs),
      result.outcome === 'pass' ? seconds(result.totalMs) : '-',
      result.detail,
    ]),
  ];
  const widths =
    rows[0]?.map((_, column) => Math.max(...rows.map((row) => (row[column] ?? '').length))) ?? [];
  const lines = rows.map((row) =>
    row
      .map((cell, column) => (column === row.length - 1 ? cell : cell.padEnd(widths[column] ?? 0)))
      .join('  '),
  );
  const count = (outcome: DoorResult['outcome']) => results.filter((r) => r.outcome === outcome).length;
  const absent = results.length - count('pass') - count('fail');
  lines.push('', `${count('pass')} passed, ${count('fail')} failed, ${absent} not tried`);
  return `${lines.join('\n')}\n`;
}

/** 0 when every door tried passed and at least one was tried; 1 otherwise. */
export function exitCode(results: readonly DoorResult[]): number {
  const tried = results.filter((result) => result.outcome === 'pass' || result.outcome === 'fail');
  return tried.length > 0 && tried.every((result) => result.outcome === 'pass') ? 0 : 1;
}
