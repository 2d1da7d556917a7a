// The postback log of one surface, newest first, with filters and a live tail: why was a postback refused?
import { h, field, select, time, errorBox, clear, qs } from './dom.js';
import { suggestSurfaces } from './surfaces.js';

const TAIL_MS = 3000;

/** surfaceId: the surface to show first; fixedSurface: true in the portal, where the link decides it. */
export function postbackLog(main, api, { surfaceId, fixedSurface }) {
  const surface = h('input', { name: 'surfaceId', type: 'text', value: surfaceId ?? '', required: true, readonly: fixedSurface });
  const outcome = select('outcome', [['', 'Any outcome'], ['accepted', 'Accepted'], ['duplicate', 'Duplicate'], ['rejected', 'Rejected']], '');
  const code = h('input', { name: 'error', type: 'text', placeholder: 'e.g. bad_signature' });
  const tail = h('input', { name: 'tail', type: 'checkbox', checked: true });
  const list = h('div', { id: 'log-entries', 'aria-live': 'polite', 'aria-busy': 'false' });
  const form = h('form', { class: 'filters', role: 'search', 'aria-label': 'Filter the postback log' },
    field('Surface id', surface),
    field('Outcome', outcome),
    field('Error code', code),
    h('div', { class: 'field check' }, tail, h('label', { for: tail.id = 'log-tail' }, 'Live tail')),
    h('button', { type: 'submit' }, 'Show'));
  let entries = [];
  const render = () => {
    const wantOutcome = outcome.value;
    const wantCode = code.value.trim();
    const shown = entries.filter((e) => (!wantOutcome || kind(e) === wantOutcome) && (!wantCode || (e.error ?? '').includes(wantCode)));
    if (shown.length === 0) {
      return clear(list, h('p', { class: 'empty' }, entries.length ? 'No entry matches the filters.' : 'No postbacks recorded for this surface yet.'));
    }
    // Keep open entries open across refreshes.
    const open = new Set([...list.querySelectorAll('details[open]')].map((d) => d.dataset.key));
    clear(list, h('ol', { class: 'log' }, shown.map((e) => entry(e, open))));
  };
  const load = async () => {
    if (!surface.value.trim()) return;
    try {
      const page = await api.get('/postback-log' + qs({ surfaceId: surface.value.trim(), limit: 200 }));
      entries = page.items;
      render();
    } catch (e) {
      clear(list, errorBox(e));
    }
  };
  form.addEventListener('submit', (ev) => { ev.preventDefault(); load(); });
  outcome.addEventListener('change', render);
  code.addEventListener('input', render);
  clear(main, h('h1', null, 'Postback log'),
    h('p', { class: 'lede' }, 'The last 200 postbacks of a surface as the gateway decided them, newest first. Open an entry to see why.'),
    form, list);
  load();
  if (!fixedSurface) suggestSurfaces(api, surface, load);
  const timer = setInterval(() => {
    if (!document.body.contains(list)) return clearInterval(timer);
    if (tail.checked) load();
  }, TAIL_MS);
}

function entry(e, open) {
  const key = e.at + '|' + (e.externalId ?? '') + '|' + (e.error ?? '');
  const summary = [time(e.at), ' ', h('span', { class: 'outcome-' + kind(e) }, e.outcome ?? 'batch'),
    e.duplicate ? [' ', h('span', { class: 'outcome-duplicate' }, 'duplicate')] : null,
    e.error ? [' ', h('code', null, e.error)] : null, e.externalId ? ` · ${e.externalId}` : null, ` · HTTP ${e.httpStatus}`];
  const facts = Object.entries(e).map(([k, v]) => [h('dt', null, k), h('dd', null, typeof v === 'object' ? JSON.stringify(v) : String(v))]);
  return h('li', null, h('details', { 'data-key': key, open: open.has(key) }, h('summary', null, summary), h('dl', { class: 'facts' }, facts)));
}

/** accepted, duplicate or rejected: an accepted entry's outcome is its attribution status (attributed, ...). */
function kind(e) {
  if (e.outcome === 'rejected') return 'rejected';
  return e.duplicate ? 'duplicate' : 'accepted';
}
