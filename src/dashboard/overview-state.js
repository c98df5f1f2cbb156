/**
 * What the overview page shows and how it is filtered, shared by its panels (the list, the throughput
 * figures); and the pipeline choices, which every panel adds the pipelines it sees to.
 */
import { byId, h } from './dom.js';

/** @typedef {import('./api.js').Ingestion} Ingestion */

export const overview = {
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

export function renderPipelineOptions() {
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
