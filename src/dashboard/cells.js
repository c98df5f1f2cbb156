/** What both pages put in their tables: a status badge and a time. */
import { h } from './dom.js';
import { formatTime } from './format.js';

/** @param {string} status */
export function statusBadge(status) {
  return h('span', { class: `status ${status}` }, status);
}

/** @param {string | null} iso */
export function timeElement(iso) {
  return iso === null ? '–' : h('time', { datetime: iso, title: iso }, formatTime(iso));
}
