/** The overview's list of recent ingestions: kept live by polling its first page, extended by "Load more". */
import { statusBadge, timeElement } from './cells.js';
import { byId, h } from './dom.js';
import { doorText, fileName, formatCount, formatDuration } from './format.js';
import { handleError } from './live.js';
import { announce } from './notices.js';
import { overview, renderPipelineOptions } from './overview-state.js';
import { api } from './session.js';

/** @typedef {import('./api.js').Ingestion} Ingestion */

const PAGE_SIZE = 50;

export function resetList() {
  overview.generation++;
  overview.rows.clear();
  overview.elements.clear();
  overview.next = null;
  overview.loaded = false;
  byId('ingestions').querySelector('tbody')?.replaceChildren();
}

/** @param {string | null} before */
function listPath(before) {
  const params = new URLSearchParams({ limit: String(PAGE_SIZE) });
  if (overview.filter.pipeline) params.set('pipeline', overview.filter.pipeline);
  if (overview.filter.status) params.set('status', overview.filter.status);
  if (before) params.set('before', before);
  return `/v1/ingestions?${params}`;
}

/** The list's order, as the API sorts it: latest of finished, started, received first; then id. */
function sortTime(/** @type {Ingestion} */ row) {
  const at = row.finishedAt ?? row.startedAt ?? row.receivedAt;
  return at === null ? Number.POSITIVE_INFINITY : Date.parse(at);
}

/** @param {Ingestion} a @param {Ingestion} b */
function compareRows(a, b) {
  const ta = sortTime(a);
  const tb = sortTime(b);
  if (ta !== tb) return tb - ta;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/** @param {Ingestion} row */
function signature(row) {
  return [row.status, row.rowsLoaded, row.rowsRejected, row.finishedAt, row.startedAt, row.pipeline].join(
    '|',
  );
}

export async function refreshList() {
  const generation = overview.generation;
  const page = await api.json(listPath(null));
  if (generation !== overview.generation) return;
  /** @type {Ingestion[]} */
  const incoming = page.ingestions;
  for (const row of incoming) if (row.pipeline) overview.pipelines.add(row.pipeline);
  const first = !overview.loaded;
  const overlaps = incoming.some((row) => overview.rows.has(row.id));
  if (first || (!overlaps && page.next !== null)) {
    // The first page, or more new files than a page since the last poll: start over from this page.
    overview.rows.clear();
    for (const row of incoming) overview.rows.set(row.id, row);
    overview.next = page.next;
    overview.loaded = true;
    renderList(new Set(first ? [] : incoming.map((row) => row.id)));
    if (!first && incoming.length > 0) announce(`${incoming.length} new ingestions`);
    return;
  }
  // The page is the truth from its last row up: what it lacks there has left the filter.
  const last = incoming.at(-1);
  const seen = new Set(incoming.map((row) => row.id));
  for (const [id, row] of overview.rows) {
    if (seen.has(id)) continue;
    if (page.next === null || (last !== undefined && compareRows(row, last) <= 0)) overview.rows.delete(id);
  }
  if (page.next === null) overview.next = null;
  let added = 0;
  let changed = 0;
  /** @type {Set<string>} */
  const fresh = new Set();
  for (const row of incoming) {
    const before = overview.rows.get(row.id);
    if (before === undefined) {
      added++;
      fresh.add(row.id);
    } else if (signature(before) !== signature(row)) {
      changed++;
    }
    overview.rows.set(row.id, row);
  }
  renderList(fresh);
  const parts = [];
  if (added > 0) parts.push(`${added} new ${added === 1 ? 'ingestion' : 'ingestions'}`);
  if (changed > 0) parts.push(`${changed} updated`);
  if (parts.length > 0) announce(parts.join(', '));
}

async function loadMore() {
  const button = /** @type {HTMLButtonElement} */ (byId('load-more'));
  if (overview.next === null) return;
  const generation = overview.generation;
  button.disabled = true;
  try {
    const page = await api.json(listPath(overview.next));
    if (generation !== overview.generation) return;
    /** @type {Ingestion[]} */
    const older = page.ingestions;
    for (const row of older) {
      overview.rows.set(row.id, row);
      if (row.pipeline) overview.pipelines.add(row.pipeline);
    }
    overview.next = page.next;
    renderList(new Set());
    announce(`${older.length} more ${older.length === 1 ? 'ingestion' : 'ingestions'} loaded`);
    if (overview.next === null) {
      // The button goes away: keep the keyboard near where it was.
      const links = byId('ingestions').querySelectorAll('tbody a');
      /** @type {HTMLElement | undefined} */ (links[links.length - 1])?.focus();
    }
  } catch (error) {
    handleError(error);
  } finally {
    button.disabled = false;
  }
}

/** @param {Set<string>} fresh ids to highlight as new */
function renderList(fresh) {
  const tbody = /** @type {HTMLTableSectionElement} */ (byId('ingestions').querySelector('tbody'));
  const rows = [...overview.rows.values()].sort(compareRows);
  for (const [id, element] of overview.elements) {
    if (!overview.rows.has(id)) {
      element.remove();
      overview.elements.delete(id);
    }
  }
  rows.forEach((row, index) => {
    let element = overview.elements.get(row.id);
    if (element === undefined) {
      element = /** @type {HTMLTableRowElement} */ (h('tr', { 'data-id': row.id }));
      overview.elements.set(row.id, element);
    }
    if (element.dataset.signature !== signature(row)) fillRow(element, row);
    if (fresh.has(row.id)) element.classList.add('fresh');
    // Move only what is out of place, so a focused link keeps its focus.
    if (tbody.children[index] !== element) tbody.insertBefore(element, tbody.children[index] ?? null);
  });
  byId('list-empty').hidden = rows.length > 0;
  byId('load-more').hidden = overview.next === null;
  byId('list-count').textContent =
    rows.length === 0
      ? ''
      : `Showing ${formatCount(rows.length)} ${rows.length === 1 ? 'ingestion' : 'ingestions'}`;
  renderPipelineOptions();
}

/** @param {HTMLTableRowElement} element @param {Ingestion} row */
function fillRow(element, row) {
  element.dataset.signature = signature(row);
  element.dataset.status = row.status;
  element.replaceChildren(
    h('td', { class: 'file' }, h('a', { href: `#/ingestions/${row.id}` }, fileName(row.source))),
    h('td', {}, row.pipeline || '–'),
    h('td', { 'data-field': 'door' }, doorText(row)),
    h('td', {}, statusBadge(row.status)),
    h('td', { class: 'num', 'data-field': 'rows-loaded' }, formatCount(row.rowsLoaded)),
    h('td', { class: 'num', 'data-field': 'rows-rejected' }, formatCount(row.rowsRejected)),
    h('td', { class: 'num' }, formatDuration(row.durationMs)),
    h('td', { class: 'num' }, formatDuration(row.lagMs)),
    h('td', {}, timeElement(row.finishedAt)),
  );
}

byId('load-more').addEventListener('click', () => void loadMore());
