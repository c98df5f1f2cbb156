/**
 * Polling that stops while the tab is hidden and never overlaps itself, the header's live state, and what
 * a failed poll shows.
 */
import { ApiError, Unauthorized } from './api.js';
import { byId } from './dom.js';
import { formatTime } from './format.js';
import { notice } from './notices.js';

const POLL_MS = 2000;

export class Poller {
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
export const pollers = new Set();

document.addEventListener('visibilitychange', () => {
  for (const poller of pollers) {
    if (document.hidden) clearTimeout(poller.timer);
    else poller.kick();
  }
  updateLiveState();
});

/** @type {number | null} */
let lastUpdate = null;

export function updateLiveState() {
  const state = byId('live-state');
  const polling = [...pollers].some((poller) => poller.active);
  if (!polling) state.textContent = '';
  else if (document.hidden) state.textContent = 'Paused while the tab is hidden';
  else state.textContent = lastUpdate === null ? 'Loading…' : `Live · updated ${formatTime(lastUpdate)}`;
}

/** Runs `task`; a refused token asks for another, other failures show and the next poll retries. */
export async function guarded(/** @type {() => Promise<void>} */ task) {
  try {
    await task();
    lastUpdate = Date.now();
    notice('');
  } catch (error) {
    handleError(error);
  }
}

/** What a refused token leads to (the login page); app.js, which owns the routes, says. */
/** @type {(reason: string) => void} */
let tokenRefused = () => {};

/** @param {(reason: string) => void} handler */
export function onTokenRefused(handler) {
  tokenRefused = handler;
}

/** @param {unknown} error */
export function handleError(error) {
  if (error instanceof Unauthorized) {
    tokenRefused(`The token was refused (${error.code}): ${error.message}`);
  } else if (error instanceof DOMException && error.name === 'AbortError') {
    // A navigation cancelled it.
  } else if (error instanceof ApiError) {
    notice(`${error.message} (${error.status} ${error.code})`);
  } else {
    notice(`Cannot reach the Inlet server; retrying every ${POLL_MS / 1000} s.`);
  }
}

export function stopAll() {
  for (const poller of pollers) poller.stop();
  pollers.clear();
  updateLiveState();
}
