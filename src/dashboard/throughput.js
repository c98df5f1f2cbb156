/** The overview's figures and charts: throughput, reject ratios and the spool, from GET /v1/stats. */
import { barChart, lineChart, niceMax } from './charts.js';
import { byId, h } from './dom.js';
import { formatCount, formatPercent, formatRate } from './format.js';
import { overview, renderPipelineOptions } from './overview-state.js';
import { api } from './session.js';
import { hideSnapshots } from './snapshots-panel.js';

const SPOOL_SAMPLES = 150;

export async function refreshStats() {
  const generation = overview.generation;
  const params = new URLSearchParams({ minutes: String(overview.minutes) });
  if (overview.filter.pipeline) params.set('pipeline', overview.filter.pipeline);
  const stats = await api.json(`/v1/stats?${params}`);
  // Only a token scoped to pipelines is denied the spool; snapshots cover it too (GET /v1/snapshots: 403).
  if (stats.spool === null) hideSnapshots();
  if (generation !== overview.generation) return;
  for (const pipeline of stats.pipelines) overview.pipelines.add(pipeline.pipeline);
  renderPipelineOptions();
  renderStats(stats);
}

/** @param {any} stats the answer of GET /v1/stats */
function renderStats(stats) {
  const { totals, spool } = stats;
  const figure = (/** @type {string} */ name, /** @type {string} */ text) => {
    const element = document.querySelector(`[data-figure="${name}"]`);
    if (element && element.textContent !== text) element.textContent = text;
  };
  figure('files', formatCount(totals.files));
  figure('rows-loaded', formatCount(totals.rowsLoaded));
  figure('rows-rejected', formatCount(totals.rowsRejected));
  figure('bad-files', formatCount(totals.byStatus.rejected + totals.byStatus.failed));
  figure('spool-queue', spool === null ? 'n/a' : formatCount(spool.incoming + spool.processing));

  const from = Date.parse(stats.from);
  const to = Date.parse(stats.to);
  const half = (stats.bucketSeconds * 1000) / 2;
  /** @type {{ start: string, rowsPerSecond: number, filesPerMinute: number }[]} */
  const buckets = stats.buckets;
  const points = (/** @type {'rowsPerSecond' | 'filesPerMinute'} */ key) =>
    buckets.map((bucket) => ({ t: Date.parse(bucket.start) + half, v: bucket[key] }));
  drawChart(
    'chart-rows',
    lineChart({
      title: 'Rows loaded per second',
      points: points('rowsPerSecond'),
      from,
      to,
      format: formatRate,
      unit: 'rows/s',
    }),
  );
  drawChart(
    'chart-files',
    lineChart({
      title: 'Files finished per minute',
      points: points('filesPerMinute'),
      from,
      to,
      format: formatRate,
      unit: 'files/min',
    }),
  );
  /** @type {{ pipeline: string, rejectRatio: number | null, rowsRejected: number }[]} */
  const pipelines = stats.pipelines;
  const worst = Math.max(0, ...pipelines.map((p) => p.rejectRatio ?? 0));
  drawChart(
    'chart-rejects',
    barChart({
      title: 'Reject ratio per pipeline',
      items: pipelines.map((p) => ({
        label: p.pipeline,
        value: p.rejectRatio ?? 0,
        display: formatPercent(p.rejectRatio),
        tone: (p.rejectRatio ?? 0) > 0 ? 'bad' : 'ok',
      })),
      max: Math.min(1, niceMax(worst)),
      empty: 'No files finished in this window.',
    }),
  );
  renderSpool(spool);
}

/** @param {{ incoming: number, processing: number, done: number, failed: number } | null} spool */
function renderSpool(spool) {
  const body = byId('chart-spool').querySelector('.chart-body');
  if (body === null) return;
  if (spool === null) {
    body.replaceChildren(
      h(
        'p',
        { class: 'empty' },
        'The spool is shared by every pipeline; a token scoped to pipelines does not see it.',
      ),
    );
    return;
  }
  const now = Date.now();
  overview.spoolHistory.push({ t: now, v: spool.incoming + spool.processing });
  if (overview.spoolHistory.length > SPOOL_SAMPLES) overview.spoolHistory.shift();
  const history = overview.spoolHistory;
  body.replaceChildren(
    barChart({
      title: 'Files in the spool by state',
      items: [
        {
          label: 'incoming (queued)',
          value: spool.incoming,
          display: formatCount(spool.incoming),
          tone: 'wait',
        },
        {
          label: 'processing',
          value: spool.processing,
          display: formatCount(spool.processing),
          tone: 'wait',
        },
        { label: 'failed', value: spool.failed, display: formatCount(spool.failed), tone: 'bad' },
        { label: 'done (kept)', value: spool.done, display: formatCount(spool.done), tone: 'ok' },
      ],
      empty: 'The spool is empty.',
    }),
    lineChart({
      title: 'Files queued or processing while this page is open',
      points: history,
      from: history[0]?.t ?? now,
      to: now,
      format: (v) => (Number.isInteger(v) ? formatCount(v) : ''),
      unit: 'files',
      height: 100,
    }),
  );
}

/** @param {string} id @param {SVGElement} chart */
function drawChart(id, chart) {
  byId(id).querySelector('.chart-body')?.replaceChildren(chart);
}
