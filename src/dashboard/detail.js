/**
 * One ingestion's page: its facts, timeline and error, polled until it has its verdict; then its rejected
 * rows and their CSV.
 */
import { ApiError } from './api.js';
import { statusBadge } from './cells.js';
import { byId, h } from './dom.js';
import { doorText, fileName, formatBytes, formatCount, formatDuration } from './format.js';
import { handleError, Poller, pollers, updateLiveState } from './live.js';
import { announce } from './notices.js';
import { showPage } from './pages.js';
import { api } from './session.js';
import { renderTimeline } from './timeline.js';

/** @typedef {import('./api.js').Ingestion} Ingestion */

const REJECTS_SHOWN = 500;
const FINAL = new Set(['loaded', 'duplicate', 'superseded', 'rejected', 'failed']);

const detail = {
  /** @type {string | null} */
  id: null,
  /** @type {Ingestion | null} */
  view: null,
  rejectsLoaded: false,
};

/** @param {string} id @param {boolean} focus */
export function openDetail(id, focus) {
  if (detail.id !== id) {
    detail.id = id;
    detail.view = null;
    detail.rejectsLoaded = false;
    byId('detail-title').textContent = 'Ingestion';
    byId('detail-facts').replaceChildren();
    byId('timeline').replaceChildren();
    byId('detail-error').hidden = true;
    byId('rejects-summary').textContent = 'Loading…';
    byId('rejects').hidden = true;
    byId('download-rejects').hidden = true;
  }
  showPage('detail', 'Ingestion', focus);
  const poller = new Poller(async () => {
    const settled = await refreshDetail(id);
    if (settled) poller.stop();
  });
  pollers.add(poller);
  poller.start();
  updateLiveState();
}

/** @returns {Promise<boolean>} whether the ingestion has its verdict (no more polling needed) */
async function refreshDetail(/** @type {string} */ id) {
  /** @type {Ingestion} */
  let view;
  try {
    view = await api.json(`/v1/ingestions/${id}`);
  } catch (error) {
    if (error instanceof ApiError && error.status === 404) {
      byId('detail-title').textContent = 'No such ingestion';
      byId('rejects-summary').textContent = `There is no ingestion ${id} (or this token may not read it).`;
      return true;
    }
    throw error;
  }
  if (detail.id !== id) return true;
  const previous = detail.view;
  detail.view = view;
  renderDetail(view);
  if (previous !== null && previous.status !== view.status) announce(`Status: ${view.status}`);
  if (!FINAL.has(view.status)) return false;
  if (!detail.rejectsLoaded) await loadRejects(id, view);
  return true;
}

/** @param {Ingestion} view */
function renderDetail(view) {
  const name = fileName(view.source);
  byId('detail-title').textContent = name;
  document.title = `${name} · Inlet`;
  /** @type {[string, Node | string][]} */
  const facts = [
    ['Status', statusBadge(view.status)],
    ['Pipeline', view.pipeline || '–'],
    ['Source', h('span', { class: 'mono' }, view.source || '–')],
    ['Door', doorText(view)],
    ...(view.handOver ? [['Ran on', handOverText(view.handOver)]] : []),
    ['Rows loaded', formatCount(view.rowsLoaded)],
    ['Rows rejected', formatCount(view.rowsRejected)],
    ['Size', formatBytes(view.bytes)],
    ['Duration', formatDuration(view.durationMs)],
    ['Lag (upload to commit)', formatDuration(view.lagMs)],
    ['Ingestion id', h('span', { class: 'mono' }, view.id)],
  ];
  if (view.sha256) facts.push(['SHA-256', h('span', { class: 'mono' }, view.sha256)]);
  if (view.duplicateOf) {
    facts.push([
      'Duplicate of',
      h('a', { href: `#/ingestions/${view.duplicateOf}`, class: 'mono' }, view.duplicateOf),
    ]);
  }
  byId('detail-facts').replaceChildren(
    ...facts.flatMap(([term, value]) => [h('dt', {}, term), h('dd', {}, value)]),
  );
  renderTimeline(view);
  const error = byId('detail-error');
  error.hidden = view.error === undefined;
  byId('error-code').textContent = view.error?.code ?? '';
  byId('error-message').textContent = view.error?.message ?? '';
  renderContractChange(view);
}

/**
 * Where the door handed the file to be loaded, why, and the runner (the ECS task ARN).
 * @param {NonNullable<Ingestion['handOver']>} handOver
 */
function handOverText(handOver) {
  const where = { task: 'an ECS task', child: 'a child inlet ingest', server: 'the server' }[handOver.ranOn];
  const attempt = handOver.attempt && handOver.attempt > 1 ? ` (attempt ${handOver.attempt})` : '';
  return h(
    'span',
    {},
    `${where ?? handOver.ranOn}${attempt}${handOver.reason ? `: ${handOver.reason}` : ''}`,
    ...(handOver.runId ? [h('br'), h('span', { class: 'mono' }, handOver.runId)] : []),
  );
}

/** The columns an evolving file added to the table (onDrift: evolve), and the DDL. @param {Ingestion} view */
function renderContractChange(view) {
  const change = view.contractChange;
  byId('detail-contract').hidden = change === undefined;
  if (change === undefined) return;
  const columns = change.columns.map((c) => `"${c.name}" ${c.type} (from "${c.source}")`).join(', ');
  byId('contract-summary').textContent =
    `This file added ${change.columns.length === 1 ? 'column' : 'columns'} ${columns}: contract version ${change.version}.`;
  byId('contract-ddl').textContent =
    change.ddl === '' ? '(the table had the columns already)' : `${change.ddl};`;
}

/** @param {string} id @param {Ingestion} view */
async function loadRejects(id, view) {
  const body = await api.json(`/v1/ingestions/${id}/rejects?limit=${REJECTS_SHOWN}`);
  if (detail.id !== id) return;
  detail.rejectsLoaded = true;
  /** @type {{ line: number | null, record: number | null, column: string | null, value: string | null, reason: string }[]} */
  const rejects = body.rejects;
  const table = byId('rejects');
  const tbody = table.querySelector('tbody');
  tbody?.replaceChildren(
    ...rejects.map((reject) =>
      h(
        'tr',
        {},
        h('td', { class: 'num' }, reject.line ?? '–'),
        h('td', { class: 'num' }, reject.record ?? '–'),
        h('td', {}, reject.column ?? '–'),
        h('td', { class: 'value mono' }, reject.value ?? ''),
        h('td', {}, reject.reason),
      ),
    ),
  );
  table.hidden = rejects.length === 0;
  byId('download-rejects').hidden = rejects.length === 0;
  const total = Math.max(view.rowsRejected, rejects.length);
  byId('rejects-summary').textContent =
    rejects.length === 0
      ? 'No rejected rows.'
      : rejects.length < total
        ? `The first ${formatCount(rejects.length)} of ${formatCount(total)} rejected rows; the CSV has them all.`
        : `${formatCount(rejects.length)} rejected ${rejects.length === 1 ? 'row' : 'rows'}.`;
}

/** The CSV through fetch (it needs the Authorization header), handed to the browser as a file. */
async function downloadRejects() {
  const id = detail.id;
  if (id === null) return;
  const button = /** @type {HTMLButtonElement} */ (byId('download-rejects'));
  button.disabled = true;
  try {
    const response = await api.request(`/v1/ingestions/${id}/rejects`, { accept: 'text/csv' });
    const blob = await response.blob();
    const disposition = response.headers.get('content-disposition') ?? '';
    const name = /filename="([^"]+)"/.exec(disposition)?.[1] ?? `rejects-${id}.csv`;
    const url = URL.createObjectURL(blob);
    const link = h('a', { href: url, download: name, hidden: true });
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 60_000);
    announce(`Downloaded ${name}`);
  } catch (error) {
    handleError(error);
  } finally {
    button.disabled = false;
  }
}

byId('download-rejects').addEventListener('click', () => void downloadRejects());
