/**
 * How one file's outcome is printed: the `--json` line whose shape docs/cli.md documents, or the
 * human summary with the first rejected rows.
 */
import type { TableName } from '../model/contract.js';
import type { RejectRecord } from '../model/ingestion.js';
import { formatCount, formatDuration, truncateEnd } from './format.js';
import type { FileResult } from './ingest-files.js';
import type { Paint } from './output.js';

/** Exactly the documented keys, in the documented order; `error` only when there is one. */
export function resultJson(result: FileResult, extra: Record<string, unknown> = {}): string {
  return JSON.stringify({
    source: result.source,
    pipeline: result.pipeline,
    status: result.status,
    ingestionId: result.ingestionId,
    rowsLoaded: result.rowsLoaded,
    rowsRejected: result.rowsRejected,
    bytes: result.bytes,
    durationMs: result.durationMs,
    ...(result.error === undefined
      ? {}
      : { error: { code: result.error.code, message: result.error.message } }),
    ...(result.contractChange === undefined ? {} : { contractChange: result.contractChange }),
    ...extra,
  });
}

export interface HumanOptions {
  /** The file as the user named it. */
  readonly display: string;
  readonly table: TableName | undefined;
  readonly paint: Paint;
  /** `inlet validate`: nothing was committed, so speak of what would happen. */
  readonly dryRun?: boolean;
  /** How many rejected rows to show under the summary. */
  readonly showRejects?: number;
}

export function resultLines(result: FileResult, options: HumanOptions): string[] {
  const { paint } = options;
  const target = options.table ? ` → ${options.table.schema}.${options.table.name}` : '';
  const subject = `${options.display}${target}`;
  const rejected = result.rowsRejected > 0 ? ` (${formatCount(result.rowsRejected)} rejected)` : '';
  const took = `in ${formatDuration(result.durationMs)}`;
  const rows = `${formatCount(result.rowsLoaded)} ${result.rowsLoaded === 1 ? 'row' : 'rows'}`;
  const reason = result.error?.message ?? `${formatCount(result.rowsRejected)} rows rejected`;
  const lines: string[] = [];
  switch (result.status) {
    case 'loaded':
      lines.push(
        options.dryRun
          ? `${paint.green('✓')} valid ${subject}: ${rows} would load${rejected} ${took}`
          : `${paint.green('✓')} loaded ${subject}: ${rows}${rejected} ${took}`,
      );
      break;
    case 'duplicate':
      lines.push(
        `${paint.dim('=')} duplicate ${subject}: already loaded by ingestion ${result.ingestionId ?? '?'} (--force loads it again)`,
      );
      break;
    case 'superseded':
      lines.push(`${paint.dim('↷')} superseded ${subject}: a newer version of this file is already loaded`);
      break;
    case 'rejected':
      lines.push(`${paint.red('✗')} ${options.dryRun ? 'would reject' : 'rejected'} ${subject}: ${reason}`);
      break;
    case 'failed':
      lines.push(`${paint.red('✗')} failed ${subject}: ${result.error?.message ?? 'unknown error'}`);
      break;
  }
  if (result.status === 'loaded' && result.contractChange !== undefined) {
    const { columns, version } = result.contractChange;
    const added = columns
      .map((c) => `"${c.name}" ${c.type}${c.source === c.name ? '' : ` (from ${JSON.stringify(c.source)})`}`)
      .join(', ');
    lines.push(
      `  ${options.dryRun ? 'would add' : 'added'} column${columns.length === 1 ? '' : 's'} ${added}: contract version ${version} (inlet contracts ${result.pipeline})`,
    );
  }
  const showRejects =
    result.status === 'rejected' || (options.dryRun === true && result.status === 'loaded')
      ? (options.showRejects ?? 5)
      : 0;
  lines.push(...rejectLines(result, showRejects, options.dryRun === true));
  if (result.status === 'loaded' && !options.dryRun && result.rowsRejected > 0 && result.ingestionId) {
    lines.push(paint.dim(`  rejected rows: inlet rejects ${result.ingestionId}`));
  }
  return lines;
}

function rejectLines(result: FileResult, limit: number, dryRun: boolean): string[] {
  if (limit === 0 || result.rejects.length === 0) return [];
  const lines = result.rejects.slice(0, limit).map((reject) => `    ${describeReject(reject)}`);
  const more = result.rowsRejected - Math.min(limit, result.rejects.length);
  if (more > 0) {
    const where = !dryRun && result.ingestionId ? `: inlet rejects ${result.ingestionId}` : '';
    lines.push(`    … ${formatCount(more)} more${where}`);
  }
  return lines;
}

export function describeReject(reject: RejectRecord): string {
  const parts = [reject.line !== undefined ? `line ${reject.line}` : `record ${reject.record}`];
  if (reject.column !== undefined) parts.push(`column ${reject.column}`);
  if (reject.value !== undefined) parts.push(`value ${JSON.stringify(truncateEnd(reject.value, 40))}`);
  return `${parts.join(', ')}: ${reject.reason}`;
}
