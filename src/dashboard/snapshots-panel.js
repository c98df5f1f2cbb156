/** The overview's Snapshots panel: the snapshot scheduler's recent runs. */
import { ApiError } from './api.js';
import { statusBadge, timeElement } from './cells.js';
import { byId, h } from './dom.js';
import { formatBytes, formatCount } from './format.js';
import { api } from './session.js';

// Snapshot runs change a few times a day: read them on the first poll and every few polls after.
const SNAPSHOT_POLL_EVERY = 3;
const snapshots = {
  polls: 0,
  /** A token scoped to pipelines may not read them (403): the panel stays hidden and nothing is asked. */
  forbidden: false,
};

/** Reads the runs on the next poll (the token may have changed since the overview was last open). */
export function restartSnapshots() {
  snapshots.polls = 0;
  snapshots.forbidden = false;
}

/** For a token that may not read the runs: the panel goes and nothing more is asked. */
export function hideSnapshots() {
  snapshots.forbidden = true;
  byId('snapshots-panel').hidden = true;
}

/**
 * @typedef {{
 *   id: string, status: string, startedAt: string, snapshotId: string | null, files: number | null,
 *   bytes: number | null, bytesUploaded: number | null, error?: { code: string, message: string }
 * }} SnapshotRun
 */

export async function refreshSnapshots() {
  if (snapshots.forbidden || snapshots.polls++ % SNAPSHOT_POLL_EVERY !== 0) return;
  /** @type {{ snapshots: SnapshotRun[] }} */
  let body;
  try {
    body = await api.json('/v1/snapshots?limit=10');
  } catch (error) {
    if (error instanceof ApiError && error.status === 403) {
      hideSnapshots();
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
