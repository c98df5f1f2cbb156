/**
 * The Inlet dashboard: recent ingestions (live), one ingestion's timeline and rejects, and throughput
 * charts, read from the upload API with a bearer token. Routes live in the fragment (`#/`,
 * `#/ingestions/<id>`); `#token=…` hands the page a token and is removed from the address at once.
 *
 * Live updates are polling (every 2 s, paused while the tab is hidden): EventSource cannot send an
 * Authorization header, and a poll of one indexed page is cheap.
 */
import { ApiError, createApi, Unauthorized } from './api.js';
import { barChart, lineChart, niceMax } from './charts.js';
import { byId, h } from './dom.js';
import {
  fileName,
  formatBytes,
  formatCount,
  formatDuration,
  formatPercent,
  formatRate,
  formatTime,
  uuidV7Time,
} from './format.js';

const POLL_MS = 2000;
const PAGE_SIZE = 50;
const REJECTS_SHOWN = 500;
const SPOOL_SAMPLES = 150;
const TOKEN_KEY = 'inlet.token';
const FINAL = new Set(['loaded', 'duplicate', 'superseded', 'rejected', 'failed']);
const INGESTION_ROUTE = /^#\/ingestions\/([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/i;

// ---------------------------------------------------------------------------------------------------
// The token: asked for once, kept for the tab (or, if asked to, on this computer)
// ---------------------------------------------------------------------------------------------------

const tokens = {
  /** @returns {string | null} */
  read() {
    try {
      return sessionStorage.getItem(TOKEN_KEY) ?? localStorage.getItem(TOKEN_KEY);
    } catch {
      return memoryToken;
    }
  },
  /** @param {string} token @param {boolean} remember */
  save(token, remember) {
    memoryToken = token;
    try {
      sessionStorage.setItem(TOKEN_KEY, token);
      if (remember) localStorage.setItem(TOKEN_KEY, token);
      else localStorage.removeItem(TOKEN_KEY);
    } catch {
      // Storage switched off: the token lives as long as the page.
    }
  },
  forget() {
    memoryToken = null;
    try {
      sessionStorage.removeItem(TOKEN_KEY);
      localStorage.removeItem(TOKEN_KEY);
    } catch {
      // Nothing was stored.
    }
  },
};
/** @type {string | null} */
let memoryToken = null;

const api = createApi(() => tokens.read());

// ---------------------------------------------------------------------------------------------------
// Polling that stops while the tab is hidden and never overlaps itself
// ---------------------------------------------------------------------------------------------------

class Poller {
  /** @param {() => Promise<void>} task */
  constructor(task) {
    this.task = task;
    this.active = false;
    this.running = false;
    this.again = false;
    /** @type {ReturnType<typeof setTimeout> | undefined} */
    this.timer = undefined;
  }

  start() {
    this.active = true;
    this.kick();
  }

  stop() {
    this.active = false;
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Runs now (or right after the run in progress), then every POLL_MS. */
  async kick() {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (!this.active || document.hidden) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = true;
    try {
      await guarded(this.task);
    } finally {
      this.running = false;
    }
    if (this.again) {
      this.again = false;
      this.kick();
    } else if (this.active && !document.hidden) {
      this.timer = setTimeout(() => this.kick(), POLL_MS);
    }
    updateLiveState();
  }
}

/** @type {Set<Poller>} */
const pollers = new Set();

document.addEventListener('visibilitychange', () => {
  for (const poller of pollers) {
    if (document.hidden) clearTimeout(poller.timer);
    else poller.kick();
  }
  updateLiveState();
});

/** @type {number | null} */
let lastUpdate = null;

function updateLiveState() {
  const state = byId('live-state');
  const polling = [...pollers].some((poller) => poller.active);
  if (!polling) state.textContent = '';
  else if (document.hidden) state.textContent = 'Paused while the tab is hidden';
  else state.textContent = lastUpdate === null ? 'Loading…' : `Live · updated ${formatTime(lastUpdate)}`;
}

/** Runs `task`; a refused token asks for another, other failures show and the next poll retries. */
async function guarded(/** @type {() => Promise<void>} */ task) {
  try {
    await task();
    lastUpdate = Date.now();
    notice('');
  } catch (error) {
    handleError(error);
  }
}

/** @param {unknown} error */
function handleError(error) {
  if (error instanceof Unauthorized) {
    showLogin(`The token was refused (${error.code}): ${error.message}`);
  } else if (error instanceof DOMException && error.name === 'AbortError') {
    // A navigation cancelled it.
  } else if (error instanceof ApiError) {
    notice(`${error.message} (${error.status} ${error.code})`);
  } else {
    notice(`Cannot reach the Inlet server; retrying every ${POLL_MS / 1000} s.`);
  }
}

/** @param {string} text */
function notice(text) {
  const element = byId('notice');
  if (element.textContent !== text) element.textContent = text;
}

/** Polite announcement for screen readers (the visible page updates silently). @param {string} text */
function announce(text) {
  const announcer = byId('announcer');
  announcer.textContent = '';
  requestAnimationFrame(() => {
    announcer.textContent = text;
  });
}

// ---------------------------------------------------------------------------------------------------
// Pages and routing
// ---------------------------------------------------------------------------------------------------

const PAGES = ['login', 'overview', 'detail'];

/** @param {string} name @param {string} title @param {boolean} focus */
function showPage(name, title, focus) {
  for (const page of PAGES) byId(page).hidden = page !== name;
  document.title = `${title} · Inlet`;
  byId('sign-out').hidden = name === 'login';
  const nav = byId('nav-ingestions');
  if (name === 'overview') nav.setAttribute('aria-current', 'page');
  else nav.removeAttribute('aria-current');
  if (focus) byId(`${name}-title`).focus();
}

function stopAll() {
  for (const poller of pollers) poller.stop();
  pollers.clear();
  updateLiveState();
}

/** @type {string | null} */
let currentRoute = null;

function route() {
  const hash = location.hash;
  if (hash.startsWith('#token=')) {
    let token = hash.slice('#token='.length);
    try {
      token = decodeURIComponent(token);
    } catch {
      // Use it as it came.
    }
    // Out of the address bar (and the history) before anything else happens.
    history.replaceState(null, '', location.pathname + location.search);
    void enter(token, false);
    return;
  }
  if (!tokens.read()) {
    showLogin('');
    return;
  }
  const match = INGESTION_ROUTE.exec(hash);
  const next = match?.[1] ? `detail:${match[1].toLowerCase()}` : 'overview';
  const changed = next !== currentRoute;
  currentRoute = next;
  stopAll();
  if (match?.[1]) openDetail(match[1].toLowerCase(), changed);
  else openOverview(changed);
}

window.addEventListener('hashchange', route);

/** Checks a token with a small request, keeps it, then opens the page asked for. */
async function enter(/** @type {string} */ token, /** @type {boolean} */ remember) {
  try {
    await api.json('/v1/ingestions?limit=1', { token });
  } catch (error) {
    if (error instanceof Unauthorized) {
      showLogin(`The token was refused (${error.code}): ${error.message}`, token);
      return;
    }
    // The server is away or busy: keep the token; the page says what is wrong and retries.
  }
  tokens.save(token, remember);
  currentRoute = null;
  route();
}

// ---------------------------------------------------------------------------------------------------
// Login
// ---------------------------------------------------------------------------------------------------

/** @param {string} reason @param {string} [prefill] */
function showLogin(reason, prefill = '') {
  stopAll();
  tokens.forget();
  currentRoute = 'login';
  showPage('login', 'Open the dashboard', false);
  const input = /** @type {HTMLInputElement} */ (byId('token-input'));
  input.value = prefill;
  input.setAttribute('aria-invalid', reason ? 'true' : 'false');
  byId('token-error').textContent = reason;
  input.focus();
}

byId('login-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const input = /** @type {HTMLInputElement} */ (byId('token-input'));
  const remember = /** @type {HTMLInputElement} */ (byId('remember')).checked;
  const token = input.value.trim();
  if (token === '') {
    byId('token-error').textContent = 'Enter a token.';
    input.setAttribute('aria-invalid', 'true');
    input.focus();
    return;
  }
  const button = /** @type {HTMLButtonElement} */ (
    event.submitter ?? byId('login-form').querySelector('button')
  );
  button.disabled = true;
  try {
    await enter(token, remember);
  } finally {
    button.disabled = false;
  }
});

byId('sign-out').addEventListener('click', () => showLogin(''));

byId('skip-link').addEventListener('click', (event) => {
  event.preventDefault();
  byId('main').focus();
});

// ---------------------------------------------------------------------------------------------------
// Overview: figures, charts and the live list
// ---------------------------------------------------------------------------------------------------

/**
 * @typedef {{
 *   id: string, pipeline: string, source: string, status: string, rowsLoaded: number, rowsRejected: number,
 *   bytes: number | null, sha256: string | null, duplicateOf: string | null, receivedAt: string | null,
 *   startedAt: string | null, finishedAt: string | null, durationMs: number | null, lagMs: number | null,
 *   error?: { code: string, message: string }
 * }} Ingestion
 */

const overview = {
  /** @type {Map<string, Ingestion>} */
  rows: new Map(),
  /** @type {Map<string, HTMLTableRowElement>} */
  elements: new Map(),
  /** @type {string | null} the cursor after the oldest row shown */
  next: null,
  loaded: false,
  /** Bumped when the filter changes: answers to older requests are dropped. */
  generation: 0,
  filter: { pipeline: '', status: '' },
  minutes: 60,
  /** @type {Set<string>} */
  pipelines: new Set(),
  /** @type {{ t: number, v: number }[]} */
  spoolHistory: [],
  live: true,
};

function overviewHash() {
  const params = new URLSearchParams();
  if (overview.filter.pipeline) params.set('pipeline', overview.filter.pipeline);
  if (overview.filter.status) params.set('status', overview.filter.status);
  if (overview.minutes !== 60) params.set('window', String(overview.minutes));
  const query = params.toString();
  return query ? `#/?${query}` : '#/';
}

/** The filter written in the address (`#/?pipeline=…&status=…&window=…`), if any. */
function readOverviewHash() {
  const hash = location.hash;
  if (!hash.startsWith('#/?')) return;
  const params = new URLSearchParams(hash.slice(3));
  const filter = { pipeline: params.get('pipeline') ?? '', status: params.get('status') ?? '' };
  const minutes = Number(params.get('window') ?? 60);
  if (filter.pipeline !== overview.filter.pipeline || filter.status !== overview.filter.status) {
    overview.filter = filter;
    resetList();
  }
  if (Number.isInteger(minutes) && minutes > 0) overview.minutes = minutes;
}

function syncControls() {
  if (overview.filter.pipeline) overview.pipelines.add(overview.filter.pipeline);
  renderPipelineOptions();
  /** @type {HTMLSelectElement} */ (byId('filter-pipeline')).value = overview.filter.pipeline;
  /** @type {HTMLSelectElement} */ (byId('filter-status')).value = overview.filter.status;
  const windowSelect = /** @type {HTMLSelectElement} */ (byId('window-select'));
  if (![...windowSelect.options].some((option) => option.value === String(overview.minutes))) {
    windowSelect.append(h('option', { value: overview.minutes }, `last ${overview.minutes} minutes`));
  }
  windowSelect.value = String(overview.minutes);
  /** @type {HTMLInputElement} */ (byId('live-toggle')).checked = overview.live;
}

/** @type {Poller | null} */
let overviewPoller = null;

/** @param {boolean} focus */
function openOverview(focus) {
  readOverviewHash();
  syncControls();
  showPage('overview', 'Ingestions', focus);
  // Read the snapshots on the first poll (the token may have changed since the last visit).
  snapshots.polls = 0;
  snapshots.forbidden = false;
  overviewPoller = new Poller(refreshOverview);
  pollers.add(overviewPoller);
  if (overview.live) overviewPoller.start();
  else void guarded(refreshOverview);
  updateLiveState();
}

async function refreshOverview() {
  // Snapshots after the stats: their `spool: null` says the token is scoped, and may not read them.
  await Promise.all([refreshList(), refreshStats().then(refreshSnapshots)]);
}

// Snapshot runs change a few times a day: read them on the first poll and every few polls after.
const SNAPSHOT_POLL_EVERY = 3;
const snapshots = {
  polls: 0,
  /** A token scoped to pipelines may not read them (403): the panel stays hidden and nothing is asked. */
  forbidden: false,
};

/**
 * @typedef {{
 *   id: string, status: string, startedAt: string, snapshotId: string | null, files: number | null,
 *   bytes: number | null, bytesUploaded: number | null, error?: { code: string, message: string }
 * }} SnapshotRun
 */

async function refreshSnapshots() {
  if (snapshots.forbidden || snapshots.polls++ % SNAPSHOT_POLL_EVERY !== 0) return;
  /** @type {{ snapshots: SnapshotRun[] }} */
  let body;
  try {
    body = await api.json('/v1/snapshots?limit=10');
  } catch (error) {
    if (error instanceof ApiError && error.status === 403) {
      snapshots.forbidden = true;
      byId('snapshots-panel').hidden = true;
      return;
    }
    throw error;
  }
  renderSnapshots(body.snapshots);
}

/** @param {SnapshotRun[]} runs */
function renderSnapshots(runs) {
  byId('snapshots-panel').hidden = false;
  byId('snapshots').hidden = runs.length === 0;
  byId('snapshots-empty').hidden = runs.length > 0;
  byId('snapshots')
    .querySelector('tbody')
    ?.replaceChildren(
      ...runs.map((run) =>
        h(
          'tr',
          { 'data-id': run.id, 'data-status': run.status },
          h('td', {}, timeElement(run.startedAt)),
          h(
            'td',
            { title: run.error ? `${run.error.code}: ${run.error.message}` : null },
            statusBadge(run.status),
          ),
          h('td', { class: 'mono', 'data-field': 'snapshot-id' }, run.snapshotId ?? '–'),
          h('td', { class: 'num' }, formatCount(run.files)),
          h(
            'td',
            { class: 'num', 'data-field': 'bytes', title: run.bytes === null ? null : `${run.bytes} bytes` },
            formatBytes(run.bytes),
          ),
          h('td', { class: 'num', 'data-field': 'bytes-uploaded' }, formatBytes(run.bytesUploaded)),
        ),
      ),
    );
}

function resetList() {
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

async function refreshList() {
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
    h('td', {}, statusBadge(row.status)),
    h('td', { class: 'num', 'data-field': 'rows-loaded' }, formatCount(row.rowsLoaded)),
    h('td', { class: 'num', 'data-field': 'rows-rejected' }, formatCount(row.rowsRejected)),
    h('td', { class: 'num' }, formatDuration(row.durationMs)),
    h('td', { class: 'num' }, formatDuration(row.lagMs)),
    h('td', {}, timeElement(row.finishedAt)),
  );
}

/** @param {string} status */
function statusBadge(status) {
  return h('span', { class: `status ${status}` }, status);
}

/** @param {string | null} iso */
function timeElement(iso) {
  return iso === null ? '–' : h('time', { datetime: iso, title: iso }, formatTime(iso));
}

function renderPipelineOptions() {
  const select = /** @type {HTMLSelectElement} */ (byId('filter-pipeline'));
  const names = [...overview.pipelines].sort();
  const shown = [...select.options].slice(1).map((option) => option.value);
  if (shown.join('\n') === names.join('\n')) return;
  const value = select.value;
  select.replaceChildren(
    h('option', { value: '' }, 'All pipelines'),
    ...names.map((name) => h('option', { value: name }, name)),
  );
  select.value = value;
}

function onFilterChange() {
  overview.filter = {
    pipeline: /** @type {HTMLSelectElement} */ (byId('filter-pipeline')).value,
    status: /** @type {HTMLSelectElement} */ (byId('filter-status')).value,
  };
  history.replaceState(null, '', overviewHash());
  updateBackLinks();
  resetList();
  overviewPoller?.kick();
}

byId('filter-pipeline').addEventListener('change', onFilterChange);
byId('filter-status').addEventListener('change', onFilterChange);
byId('filters').addEventListener('submit', (event) => event.preventDefault());
byId('load-more').addEventListener('click', () => void loadMore());
byId('window-select').addEventListener('change', (event) => {
  overview.minutes = Number(/** @type {HTMLSelectElement} */ (event.target).value);
  history.replaceState(null, '', overviewHash());
  updateBackLinks();
  overviewPoller?.kick();
});
byId('live-toggle').addEventListener('change', (event) => {
  overview.live = /** @type {HTMLInputElement} */ (event.target).checked;
  if (overview.live) overviewPoller?.start();
  else overviewPoller?.stop();
  updateLiveState();
  announce(overview.live ? 'Live updates on' : 'Live updates paused');
});

/** Links back to the overview keep its filter. */
function updateBackLinks() {
  const target = overviewHash();
  for (const id of ['back-link', 'nav-ingestions']) byId(id).setAttribute('href', target);
}

async function refreshStats() {
  const generation = overview.generation;
  const params = new URLSearchParams({ minutes: String(overview.minutes) });
  if (overview.filter.pipeline) params.set('pipeline', overview.filter.pipeline);
  const stats = await api.json(`/v1/stats?${params}`);
  // Only a token scoped to pipelines is denied the spool; snapshots cover it too (GET /v1/snapshots: 403).
  if (stats.spool === null) {
    snapshots.forbidden = true;
    byId('snapshots-panel').hidden = true;
  }
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

// ---------------------------------------------------------------------------------------------------
// One ingestion: facts, timeline, error, rejected rows and their CSV
// ---------------------------------------------------------------------------------------------------

const detail = {
  /** @type {string | null} */
  id: null,
  /** @type {Ingestion | null} */
  view: null,
  rejectsLoaded: false,
};

/** @param {string} id @param {boolean} focus */
function openDetail(id, focus) {
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
}

/** @param {Ingestion} view */
function renderTimeline(view) {
  const queued = view.receivedAt === null ? null : Date.parse(view.receivedAt);
  const arrived = uuidV7Time(view.id);
  /** @type {{ label: string, at: number | null, note: string, bad?: boolean }[]} */
  const steps = [];
  if (arrived !== null && (queued === null || arrived <= queued)) {
    steps.push({ label: 'Received', at: arrived, note: 'the upload began' });
    steps.push({ label: 'Queued', at: queued, note: 'durable in the spool' });
  } else {
    steps.push({ label: 'Received', at: queued, note: 'the front door took it' });
  }
  steps.push({
    label: 'Started',
    at: view.startedAt === null ? null : Date.parse(view.startedAt),
    note: 'a worker took it',
  });
  const finished = view.finishedAt === null ? null : Date.parse(view.finishedAt);
  const ends = {
    loaded: ['Committed', 'rows and ledger in one transaction'],
    rejected: ['Rejected', 'nothing loaded'],
    failed: ['Failed', 'nothing loaded'],
    duplicate: ['Skipped', 'already loaded: a duplicate'],
    superseded: ['Superseded', 'a newer version was loaded'],
  };
  const [label, note] = ends[/** @type {keyof typeof ends} */ (view.status)] ?? ['Committed', 'not yet'];
  steps.push({ label, at: finished, note, bad: view.status === 'rejected' || view.status === 'failed' });
  /** @type {number | null} */
  let previous = null;
  const items = steps.map((step) => {
    const reached = step.at !== null;
    const delta =
      reached && previous !== null ? `+${formatDuration(Math.max(0, (step.at ?? 0) - previous))}` : '';
    if (reached) previous = step.at;
    return h(
      'li',
      { class: reached ? (step.bad ? 'bad' : '') : 'pending' },
      h('span', { class: 'step' }, step.label),
      reached
        ? h('time', { datetime: new Date(step.at ?? 0).toISOString() }, formatTime(step.at))
        : 'not yet',
      delta ? h('span', { class: 'delta' }, ` ${delta}`) : null,
      h('span', { class: 'visually-hidden' }, ` (${step.note})`),
    );
  });
  byId('timeline').replaceChildren(...items);
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

// ---------------------------------------------------------------------------------------------------

updateBackLinks();
route();
