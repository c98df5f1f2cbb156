/** The token the page reads the API with: asked for once, kept for the tab (or, if asked to, on this computer). */
import { createApi } from './api.js';

const TOKEN_KEY = 'inlet.token';

export const tokens = {
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

export const api = createApi(() => tokens.read());
