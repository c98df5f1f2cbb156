/** One ingestion's timeline: received, queued, started and its end, each with the time since the step before. */
import { byId, h } from './dom.js';
import { formatDuration, formatTime, uuidV7Time } from './format.js';

/** @typedef {import('./api.js').Ingestion} Ingestion */

/** @param {Ingestion} view */
export function renderTimeline(view) {
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
