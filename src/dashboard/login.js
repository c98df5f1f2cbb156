/** The login page: a token typed in, then handed to whoever opens the dashboard with it (app.js). */
import { byId } from './dom.js';
import { showPage } from './pages.js';

/** Shows the page, the input prefilled and `reason` (why a token is asked for) under it. @param {string} reason @param {string} prefill */
export function showLoginForm(reason, prefill) {
  showPage('login', 'Open the dashboard', false);
  const input = /** @type {HTMLInputElement} */ (byId('token-input'));
  input.value = prefill;
  input.setAttribute('aria-invalid', reason ? 'true' : 'false');
  byId('token-error').textContent = reason;
  input.focus();
}

/** @param {(token: string, remember: boolean) => Promise<void>} enter */
export function onSignIn(enter) {
  byId('login-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    const input = /** @type {HTMLInputElement} */ (byId('token-input'));
    const remember = /** @type {HTMLInputElement} */ (byId('remember')).checked;
    const token = input.value.trim();
    if (token === '') {
      byId('token-error').textContent = 'Enter a token.';
      input.setAttribute('aria-invalid', 'true');
      input.focus();
      return;
    }
    const button = /** @type {HTMLButtonElement} */ (
      event.submitter ?? byId('login-form').querySelector('button')
    );
    button.disabled = true;
    try {
      await enter(token, remember);
    } finally {
      button.disabled = false;
    }
  });
}
