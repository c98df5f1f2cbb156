/** The three pages (login, overview, one ingestion): one shown at a time, with its title. */
import { byId } from './dom.js';

const PAGES = ['login', 'overview', 'detail'];

/** @param {string} name @param {string} title @param {boolean} focus */
export function showPage(name, title, focus) {
  for (const page of PAGES) byId(page).hidden = page !== name;
  document.title = `${title} · Inlet`;
  byId('sign-out').hidden = name === 'login';
  const nav = byId('nav-ingestions');
  if (name === 'overview') nav.setAttribute('aria-current', 'page');
  else nav.removeAttribute('aria-current');
  if (focus) byId(`${name}-title`).focus();
}
