import { describe, expect, it } from 'vitest';
import { alignedTable, printable } from '../../../src/cli/format.js';
import { paint } from '../../../src/cli/output.js';
import { rejectsTable } from '../../../src/cli/run/rejects.js';

const plain = paint(false);

describe('inlet rejects on a terminal', () => {
  it('aligns the columns and right-aligns the numbers', () => {
    const lines = rejectsTable(
      [
        { line: 3, record: 2, column: 'amount', value: '=HYPERLINK("x")', reason: 'not a number' },
        { line: 1204, record: 1203, column: 'placed_at', value: null, reason: 'missing' },
      ],
      { width: 120, colours: plain },
    );
    expect(lines).toEqual([
      'LINE  RECORD  COLUMN     VALUE            REASON',
      '   3       2  amount     =HYPERLINK("x")  not a number',
      '1204    1203  placed_at  -                missing',
    ]);
  });

  it('shows control characters as escapes and cuts long values and reasons to the width', () => {
    const [, row] = rejectsTable(
      [{ line: 1, record: 1, column: 'note', value: `\u001b[2J${'x'.repeat(80)}`, reason: 'r'.repeat(300) }],
      { width: 80, colours: plain },
    );
    expect(row).not.toContain('\u001b');
    expect(row).toContain('\\x1b[2J');
    expect([...(row ?? '')].length).toBeLessThanOrEqual(80);
    expect(row?.endsWith('…')).toBe(true);
  });

  it('colours only on request, and keeps the alignment when it does', () => {
    const coloured = rejectsTable([{ line: 1, record: 1, column: 'a', value: 'v', reason: 'bad' }], {
      width: 80,
      colours: paint(true),
    });
    expect(coloured[0]).toContain('\x1b[1m');
    const stripped = coloured.map((line) => line.replaceAll(/\x1b\[\d+m/g, ''));
    expect(stripped).toEqual(
      rejectsTable([{ line: 1, record: 1, column: 'a', value: 'v', reason: 'bad' }], {
        width: 80,
        colours: plain,
      }),
    );
    expect(rejectsTable([], { width: 80, colours: plain })).toEqual(['no rejected rows']);
  });

  it('aligns any table by characters, not bytes', () => {
    expect(
      alignedTable(
        [{ title: 'A' }, { title: 'N', align: 'right' }],
        [
          ['é', '1'],
          ['xyz', '22'],
        ],
      ),
    ).toEqual(['A     N', 'é     1', 'xyz  22']);
    expect(printable('a\tb\r\n\u0000\u009b')).toBe('a\\tb\\r\\n\\x00\\x9b');
  });
});
