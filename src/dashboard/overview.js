/** The overview page: its filter (kept in the address), its controls, and the poll that refreshes its panels. */
import { byId, h } from './dom.js';
import { refreshList, resetList } from './ingestion-list.js';
import { guarded, Poller, pollers, updateLiveState } from './live.js';
import { announce } from './notices.js';
import { overview, renderPipelineOptions } from './overview-state.js';
import { showPage } from './pages.js';
import { refreshSnapshots, restartSnapshots } from './snapshots-panel.js';
import { refreshStats } from './throughput.js';

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
export function openOverview(focus) {
  readOverviewHash();
  syncControls();
  showPage('overview', 'Ingestions', focus);
  // Read the snapshots on the first poll (the token may have changed since the last visit).
  restartSnapshots();
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
export function updateBackLinks() {
  const target = overviewHash();
  for (const id of ['back-link', 'nav-ingestions']) byId(id).setAttribute('href', target);
}
