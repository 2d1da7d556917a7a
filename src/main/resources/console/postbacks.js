// Affiliate postbacks: an affiliate's postback URL templates with their health over the last 24 hours.
// The operator console (admin API) finds an affiliate's, adds one and fires a test; the integrator portal
// (portal API) shows its link's affiliate's, read-only.
import { h, field, select, table, time, percent, announce, errorBox, clear } from './dom.js';

const EVENTS = ['conversion.created', 'conversion.approved', 'conversion.rejected', 'conversion.refunded'];

/** The console page: an affiliate id (from the route or typed in), its templates, and a form to add one. */
export function postbackPage(main, api, affiliateId) {
  const id = h('input', { name: 'affiliateId', type: 'text', required: true, value: affiliateId ?? '' });
  const search = h('form', { class: 'filters', role: 'search', 'aria-label': 'Find an affiliate\'s postbacks' },
    field('Affiliate id', id), h('button', { type: 'submit' }, 'Show'));
  search.addEventListener('submit', (ev) => {
    ev.preventDefault();
    location.hash = '#/postbacks/' + encodeURIComponent(id.value.trim());
  });
  const list = h('section', { 'aria-live': 'polite' });
  clear(main, h('h1', null, 'Affiliate postbacks'),
    h('p', null, 'Postback URLs with macros, fired at each affiliate\'s own tracker (docs/affiliate-postbacks.md).'),
    search, list);
  if (!affiliateId) return clear(list, h('p', { class: 'empty' }, 'Enter an affiliate id to list its postbacks.'));
  const base = `/affiliates/${encodeURIComponent(affiliateId)}/postbacks`;
  const reload = () => postbackTable(list, api, base, (t) => testButton(api, base, t));
  reload();
  main.append(createForm(api, base, reload));
}

/** The portal page: the link's affiliate's templates, read-only. */
export function portalPostbacks(main, api) {
  const list = h('section', { 'aria-live': 'polite' });
  clear(main, h('h1', null, 'Affiliate postbacks'),
    h('p', null, 'What your tracker is sent for each conversion, and how it answered over the last 24 hours.'), list);
  postbackTable(list, api, '/postbacks', null);
}

async function postbackTable(section, api, path, action) {
  clear(section, h('p', { class: 'loading' }, 'Loading…'));
  let page;
  try {
    page = await api.get(path + '?limit=100');
  } catch (e) {
    return clear(section, errorBox(e));
  }
  const rows = page.items.map((t) => [
    h('code', null, t.url), t.method, t.eventTypes.join(', '), t.surfaceId ?? 'every surface',
    t.enabled ? 'enabled' : h('span', { class: 'bad' }, 'disabled' + (t.disabledReason ? ': ' + t.disabledReason : '')),
    percent(t.health?.successRate), String(t.health?.attempts ?? 0),
    t.health?.lastError ? [time(t.health.lastError.attemptedAt), ' ',
      t.health.lastError.error ?? (t.health.lastError.statusCode == null ? '' : `HTTP ${t.health.lastError.statusCode}`)] : '—',
    action ? action(t) : null,
  ].filter((c) => c !== null));
  const headers = ['URL template', 'Method', 'Events', 'Surface', 'State', 'Success rate', 'Attempts', 'Last error']
    .concat(action ? ['Action'] : []);
  clear(section, table('Postback templates and their health over the last 24 hours', headers, rows, 'No postback templates.'));
}

function testButton(api, base, t) {
  return h('button', { type: 'button', 'aria-label': 'Send a test postback to ' + t.url, onclick: async (ev) => {
    try {
      await api.post(`${base}/${encodeURIComponent(t.id)}/test`);
      ev.target.replaceWith(h('span', null, 'test queued'));
      announce('Test postback queued.');
    } catch (e) {
      ev.target.replaceWith(errorBox(e));
    }
  } }, 'Send test');
}

function createForm(api, base, reload) {
  const url = h('input', { name: 'url', type: 'text', required: true,
    placeholder: 'https://tracker.example/postback?cid={click_id}&payout={payout}&status={status}' });
  const method = select('method', [['GET', 'GET'], ['POST', 'POST']], 'GET');
  const events = EVENTS.map((e) => h('input', { type: 'checkbox', name: 'eventTypes', value: e, checked: e === EVENTS[0] }));
  const surface = h('input', { name: 'surfaceId', type: 'text' });
  const body = h('textarea', { name: 'body', rows: 3 });
  const out = h('div', { 'aria-live': 'polite' });
  const form = h('form', { class: 'card', 'aria-labelledby': 'new-postback' },
    h('h2', { id: 'new-postback' }, 'Add a postback'),
    field('URL template', url, 'Macros such as {click_id}, {txid}, {payout}, {status}, {sub1}; unknown ones are refused.'),
    field('Method', method),
    h('fieldset', null, h('legend', null, 'Fired by'),
      events.map((box) => h('label', { class: 'check' }, box, ' ', box.value))),
    field('Surface id', surface, 'Only this surface\'s conversions (optional).'),
    field('Body template', body, 'POST only (optional): JSON, or a form such as a={click_id}&b={payout}.'),
    h('button', { type: 'submit' }, 'Add postback'), out);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const req = { url: url.value.trim(), method: method.value,
      eventTypes: events.filter((b) => b.checked).map((b) => b.value) };
    if (surface.value.trim()) req.surfaceId = surface.value.trim();
    if (body.value.trim()) req.body = body.value;
    try {
      const created = await api.post(base, req);
      clear(out, h('p', { role: 'status' }, `Postback ${created.id} added. Its signing secret (for signQuery), shown only this once: ${created.secret}`));
      form.reset();
      reload();
    } catch (e) {
      clear(out, errorBox(e));
    }
  });
  return form;
}
