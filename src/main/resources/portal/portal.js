// The integrator portal: a portal link's token arrives once in the URL fragment (never sent to a server),
// moves to session storage, and the fragment is cleared. Everything shown is the link's scope only.
import { Api } from '/console/api.js';
import { h, errorBox, clear } from '/console/dom.js';
import { postbackLog } from '/console/log.js';
import { endpointList, endpointDetail } from '/console/endpoints.js';
import { portalPostbacks } from '/console/postbacks.js';

const api = new Api('/portal/api', 'postback-gateway.portal-token');
const main = document.getElementById('main');
const nav = document.getElementById('nav');
let scope = null;

const fromLink = new URLSearchParams(location.hash.replace(/^#/, '')).get('token');
if (fromLink) {
  api.token = fromLink;
  history.replaceState(null, '', location.pathname + '#/endpoints');
}

api.onUnauthorized = (err) => {
  api.token = null;
  scope = null;
  nav.hidden = true;
  clear(main, h('h1', null, 'Portal link not accepted'), errorBox(err),
    h('p', null, 'Ask the operator who sent you this link for a new one.'));
};

async function show() {
  if (!api.token) {
    nav.hidden = true;
    return clear(main, h('h1', null, 'Integrator portal'),
      h('p', null, 'Open the portal link you were given: it signs you in for this browser tab.'));
  }
  if (!scope) {
    try {
      scope = await api.get('/scope');
    } catch (e) {
      if (e.status !== 401) clear(main, errorBox(e));
      return;
    }
    const parts = [];
    if (scope.surfaceId) parts.push('surface ' + scope.surfaceId);
    if (scope.affiliateId) parts.push('affiliate ' + scope.affiliateId);
    clear(document.getElementById('scope'), 'Scope: ' + parts.join(', ') + ' · until ' + new Date(scope.expiresAt).toLocaleString());
    document.getElementById('nav-log').hidden = !scope.surfaceId;
    document.getElementById('nav-postbacks').hidden = !scope.affiliateId;
    nav.hidden = false;
  }
  const path = location.hash.replace(/^#/, '') || '/endpoints';
  for (const a of nav.querySelectorAll('a')) {
    if (path.startsWith(a.getAttribute('href').slice(1))) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  let m;
  if (path === '/log' && scope.surfaceId) postbackLog(main, api, { surfaceId: scope.surfaceId, fixedSurface: true });
  else if (path === '/postbacks' && scope.affiliateId) portalPostbacks(main, api);
  else if ((m = path.match(/^\/endpoints\/(.+)$/))) endpointDetail(main, api, decodeURIComponent(m[1]));
  else endpointList(main, api, { scopeFields: false });
  main.focus({ preventScroll: true });
}

document.getElementById('skip').addEventListener('click', (ev) => {
  ev.preventDefault();
  main.focus();
});
window.addEventListener('hashchange', show);
show();
