/** What the page says outside its panels: the notice line, and announcements for screen readers. */
import { byId } from './dom.js';

/** @param {string} text */
export function notice(text) {
  const element = byId('notice');
  if (element.textContent !== text) element.textContent = text;
}

/** Polite announcement for screen readers (the visible page updates silently). @param {string} text */
export function announce(text) {
  const announcer = byId('announcer');
  announcer.textContent = '';
  requestAnimationFrame(() => {
    announcer.textContent = text;
  });
}
