/**
 * The Inlet dashboard: recent ingestions (live), one ingestion's timeline and rejects, and throughput
 * charts, read from the upload API with a bearer token. Routes live in the fragment (`#/`,
 * `#/ingestions/<id>`); `#token=…` hands the page a token and is removed from the address at once.
 *
 * Live updates are polling (every 2 s, paused while the tab is hidden): EventSource cannot send an
 * Authorization header, and a poll of one indexed page is cheap.
 *
 * This module owns the routes and the token's coming and going; the pages are login.js, overview.js
 * (with its panels ingestion-list.js, throughput.js, snapshots-panel.js) and detail.js, and live.js
 * runs their polls.
 */
import { Unauthorized } from './api.js';
import { openDetail } from './detail.js';
import { byId } from './dom.js';
import { onTokenRefused, stopAll } from './live.js';
import { onSignIn, showLoginForm } from './login.js';
import { openOverview, updateBackLinks } from './overview.js';
import { api, tokens } from './session.js';

const INGESTION_ROUTE = /^#\/ingestions\/([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/i;

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

/** Forgets the token and asks for another. @param {string} reason @param {string} [prefill] */
function showLogin(reason, prefill = '') {
  stopAll();
  tokens.forget();
  currentRoute = 'login';
  showLoginForm(reason, prefill);
}

onSignIn(enter);
onTokenRefused(showLogin);

byId('sign-out').addEventListener('click', () => showLogin(''));

byId('skip-link').addEventListener('click', (event) => {
  event.preventDefault();
  byId('main').focus();
});

updateBackLinks();
route();
