/**
 * A one-line progress bar on stderr for large files: bytes done of total, and rows per second.
 * Redrawn at most 10 times a second, since a terminal repaint per chunk would cost more than the parse.
 */
import type { IngestProgress } from '../model/ingestion.js';
import { formatBytes, formatCount, truncateStart } from './format.js';

export interface ProgressBar {
  update(progress: IngestProgress): void;
  /** Clears the line so the result printed next starts clean. */
  done(): void;
}

const REDRAW_INTERVAL_MS = 100;
const BAR_WIDTH = 24;

export function createProgressBar(
  label: string,
  stream: NodeJS.WriteStream = process.stderr,
  now: () => number = Date.now,
): ProgressBar {
  const started = now();
  let lastDraw = 0;
  let drawn = false;
  return {
    update(progress) {
      const time = now();
      if (time - lastDraw < REDRAW_INTERVAL_MS) return;
      lastDraw = time;
      drawn = true;
      // A pseudo-terminal can report 0 columns.
      const line = renderProgress(label, progress, time - started, stream.columns || 80);
      stream.write(`\r\x1b[2K${line}`);
    },
    done() {
      if (drawn) stream.write('\r\x1b[2K');
    },
  };
}

export function renderProgress(
  label: string,
  progress: IngestProgress,
  elapsedMs: number,
  columns: number,
): string {
  const total = progress.totalBytes;
  const share = total ? Math.min(1, progress.bytes / total) : 0;
  const filled = Math.round(share * BAR_WIDTH);
  const bar = total
    ? `[${'#'.repeat(filled)}${'-'.repeat(BAR_WIDTH - filled)}] ${Math.floor(share * 100)}% `
    : '';
  const bytes = total
    ? `${formatBytes(progress.bytes)} / ${formatBytes(total)}`
    : formatBytes(progress.bytes);
  const rate = elapsedMs > 0 ? Math.round((progress.rows * 1000) / elapsedMs) : 0;
  const tail = `${bar}${bytes} · ${formatCount(rate)} rows/s`;
  const room = Math.max(10, columns - tail.length - 2);
  return `${truncateStart(label, room)} ${tail}`;
}
