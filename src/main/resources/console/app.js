// The operator console: sign in with the admin token, then one page per hash route.
import { Api } from './api.js';
import { h, field, errorBox, clear, announce } from './dom.js';
import { overview } from './overview.js';
import { postbackLog } from './log.js';
import { conversions } from './conversions.js';
import { endpointList, endpointDetail } from './endpoints.js';
import { program } from './program.js';
import { postbackPage } from './postbacks.js';

const api = new Api('/admin', 'postback-gateway.admin-token');
const main = document.getElementById('main');
const nav = document.getElementById('nav');
const signOut = document.getElementById('sign-out');

const routes = [
  [/^\/overview$/, () => overview(main, api)],
  [/^\/log(?:\/(.+))?$/, (m) => postbackLog(main, api, { surfaceId: m[1] && decodeURIComponent(m[1]) })],
  [/^\/conversions$/, () => conversions(main, api)],
  [/^\/endpoints$/, () => endpointList(main, api, { scopeFields: true })],
  [/^\/endpoints\/(.+)$/, (m) => endpointDetail(main, api, decodeURIComponent(m[1]))],
  [/^\/program(?:\/(\w+))?$/, (m) => program(main, api, m[1])],
  [/^\/postbacks(?:\/(.+))?$/, (m) => postbackPage(main, api, m[1] && decodeURIComponent(m[1]))],
];

api.onUnauthorized = () => {
  api.token = null;
  show();
};

function show() {
  const signedIn = Boolean(api.token);
  nav.hidden = !signedIn;
  signOut.hidden = !signedIn;
  if (!signedIn) return signIn();
  const path = location.hash.replace(/^#/, '') || '/overview';
  for (const a of nav.querySelectorAll('a')) {
    if (path.startsWith(a.getAttribute('href').slice(1))) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  for (const [pattern, render] of routes) {
    const m = path.match(pattern);
    if (m) {
      render(m);
      main.focus({ preventScroll: true });
      return;
    }
  }
  clear(main, h('h1', null, 'Not found'), h('p', null, 'No console page here. ', h('a', { href: '#/overview' }, 'Go to the overview')));
}

function signIn(error) {
  const token = h('input', { name: 'token', type: 'password', autocomplete: 'off', required: true, autofocus: true });
  const form = h('form', { class: 'card sign-in', 'aria-labelledby': 'sign-in-h' },
    h('h1', { id: 'sign-in-h' }, 'Sign in'),
    h('p', null, 'Use the admin token (printed at start, or your GATEWAY_ADMIN_TOKEN). It stays in this tab only.'),
    field('Admin token', token),
    h('button', { type: 'submit' }, 'Sign in'),
    error ? errorBox(error) : null);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    api.token = token.value.trim();
    try {
      await api.get('/overview');
      announce('Signed in.');
      if (!location.hash || location.hash === '#/') location.hash = '#/overview';
      show();
    } catch (e) {
      api.token = null;
      signIn(e);
    }
  });
  clear(main, form);
  token.focus();
}

signOut.addEventListener('click', () => {
  api.token = null;
  announce('Signed out.');
  show();
});
// Hash routes own the fragment, so the skip link moves focus itself.
document.getElementById('skip').addEventListener('click', (ev) => {
  ev.preventDefault();
  main.focus();
});
window.addEventListener('hashchange', show);
show();
