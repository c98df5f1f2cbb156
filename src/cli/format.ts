/** Number, size and time spellings shared by the human output of every command. */

/**
 * Thousands grouped with commas, as toLocaleString('en-US') spells them: its first call sets up ICU's
 * number formatting, about 40 ms of a command that loads a small file, so whole numbers are grouped here.
 */
export function formatCount(n: number): string {
  if (!Number.isSafeInteger(n)) return n.toLocaleString('en-US');
  const grouped = String(Math.abs(n)).replace(/\B(?=(\d{3})+$)/g, ',');
  return n < 0 ? `-${grouped}` : grouped;
}

/** A time as the listing commands show it: local time to the second; `-` for none. */
export function formatWhen(date: Date | null): string {
  if (date === null) return '-';
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())} ${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`;
}

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const minutes = Math.floor(ms / 60_000);
  const seconds = Math.round((ms % 60_000) / 1000);
  return `${minutes} min ${seconds} s`;
}

export function formatBytes(n: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let value = n;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return unit === 0 ? `${n} B` : `${value.toFixed(1)} ${units[unit]}`;
}

/** Keeps the end of long values (file names end with what tells them apart). */
export function truncateStart(text: string, width: number): string {
  const chars = [...text];
  return chars.length <= width ? text : `…${chars.slice(chars.length - width + 1).join('')}`;
}

export function truncateEnd(text: string, width: number): string {
  const chars = [...text];
  return chars.length <= width ? text : `${chars.slice(0, width - 1).join('')}…`;
}

/** Connection strings are printed for the user to copy, but the password stays off screens and logs. */
export function maskDatabaseUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '****';
    return parsed.toString();
  } catch {
    return url.replace(/(password\s*=\s*)('[^']*'|\S+)/gi, '$1****');
  }
}

const CONTROL = /[\u0000-\u001f\u007f-\u009f]/g;

/**
 * Text from files and file names as it may be shown on a terminal: control characters (an escape
 * sequence in a raw value could recolour or clear the screen) are written as visible escapes.
 */
export function printable(text: string): string {
  return text.replace(CONTROL, (char) => {
    if (char === '\t') return '\\t';
    if (char === '\n') return '\\n';
    if (char === '\r') return '\\r';
    return `\\x${char.charCodeAt(0).toString(16).padStart(2, '0')}`;
  });
}

export interface TableColumn {
  title: string;
  /** Numbers read best right-aligned. */
  align?: 'left' | 'right';
}

/**
 * Rows as aligned lines, two spaces between columns and no trailing blanks. `paint` colours a cell
 * after it is padded (row -1 is the header), so escape codes do not upset the alignment.
 */
export function alignedTable(
  columns: readonly TableColumn[],
  rows: readonly (readonly string[])[],
  paint: (row: number, column: number, text: string) => string = (_r, _c, text) => text,
): string[] {
  const widths = columns.map((column, i) =>
    Math.max(column.title.length, ...rows.map((row) => [...(row[i] ?? '')].length)),
  );
  const render = (cells: readonly string[], r: number) =>
    columns
      .map((column, i) => {
        const cell = cells[i] ?? '';
        // The last column needs no padding on its right (nor its escape codes any trailing blanks).
        const last = i === columns.length - 1 && column.align !== 'right';
        const pad = last ? 0 : (widths[i] ?? 0) - [...cell].length;
        const padded = column.align === 'right' ? ' '.repeat(pad) + cell : cell + ' '.repeat(pad);
        return paint(r, i, padded);
      })
      .join('  ')
      .trimEnd();
  return [
    render(
      columns.map((column) => column.title),
      -1,
    ),
    ...rows.map(render),
  ];
}
