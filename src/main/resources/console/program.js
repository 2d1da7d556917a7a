// Program: surfaces, affiliates, links, commission rules and payouts. Each is a list with search and
// pagination (the admin lists' keyset cursors), a create form for the common fields, and an edit form where
// the admin API allows one. Described as data below; one renderer draws them all.
import { h, field, select, table, time, announce, errorBox, clear, qs } from './dom.js';

const AFFILIATE_STATUSES = [['pending', 'pending'], ['active', 'active'], ['suspended', 'suspended']];
const PAYOUT_STATUSES = [['initiated', 'initiated'], ['completed', 'completed'], ['failed', 'failed']];

const RESOURCES = {
  surfaces: {
    title: 'Surfaces', path: '/surfaces', key: 'id',
    filters: [['q', 'Search id or name']],
    columns: [['id', 'Id'], ['name', 'Name'], ['rateLimitPerSecond', 'Rate limit /s'], ['postbackTokenEnabled', 'GET postback token'], ['createdAt', 'Created']],
    create: [['name', 'Name', { required: true }], ['id', 'Id', { hint: 'Optional: generated when empty.' }]],
    edit: [['name', 'Name']],
    created: (r) => `Surface ${r.id} created. Its signing secret, shown only this once: ${r.secret}`,
  },
  affiliates: {
    title: 'Affiliates', path: '/affiliates', key: 'id',
    filters: [['q', 'Search id or name'], ['status', 'Status', { options: AFFILIATE_STATUSES }]],
    columns: [['id', 'Id'], ['name', 'Name'], ['status', 'Status'], ['createdAt', 'Created']],
    create: [['name', 'Name', { required: true }], ['status', 'Status', { options: AFFILIATE_STATUSES }], ['id', 'Id', { hint: 'Optional.' }]],
    edit: [['name', 'Name'], ['status', 'Status', { options: AFFILIATE_STATUSES }]],
  },
  links: {
    title: 'Links', path: '/links', key: 'code',
    filters: [['surfaceId', 'Surface id'], ['affiliateId', 'Affiliate id']],
    columns: [['code', 'Code'], ['surfaceId', 'Surface'], ['affiliateId', 'Affiliate'], ['destinationUrl', 'Destination'], ['promoCode', 'Promo code'], ['trackingUrl', 'Tracking URL']],
    create: [['surfaceId', 'Surface id', { required: true }], ['affiliateId', 'Affiliate id', { required: true }],
      ['destinationUrl', 'Destination URL', { required: true, type: 'url' }], ['promoCode', 'Promo code'], ['code', 'Code', { hint: 'Optional: generated when empty.' }]],
  },
  rules: {
    title: 'Commission rules', path: '/commission-rules', key: 'id',
    filters: [['surfaceId', 'Surface id', { required: true }]],
    columns: [['id', 'Id'], ['surfaceId', 'Surface'], ['eventType', 'Event type'], ['affiliateId', 'Affiliate'], ['flatMinor', 'Flat (minor units)'], ['currency', 'Currency'], ['percentBps', 'Percent (bps)']],
    create: [['surfaceId', 'Surface id', { required: true }], ['eventType', 'Event type', { required: true }],
      ['affiliateId', 'Affiliate id', { hint: 'Empty: the surface default.' }], ['flatMinor', 'Flat amount (minor units)', { type: 'number' }],
      ['currency', 'Currency', { hint: 'With a flat amount, e.g. USD.' }], ['percentBps', 'Percent in basis points', { type: 'number', hint: '1000 = 10 %.' }]],
  },
  payouts: {
    title: 'Payouts', path: '/payouts', key: 'id',
    filters: [['affiliateId', 'Affiliate id'], ['status', 'Status', { options: PAYOUT_STATUSES }]],
    columns: [['id', 'Id'], ['affiliateId', 'Affiliate'], ['amountMinor', 'Amount (minor units)'], ['currency', 'Currency'], ['status', 'Status'], ['reference', 'Reference'], ['createdAt', 'Created']],
    create: [['affiliateId', 'Affiliate id', { required: true }], ['currency', 'Currency', { required: true }],
      ['amountMinor', 'Amount (minor units)', { type: 'number', hint: 'Empty: what the affiliate is owed.' }], ['reference', 'Reference']],
    edit: [['status', 'Status', { options: PAYOUT_STATUSES }], ['failureReason', 'Failure reason']],
  },
};

export function program(main, api, which) {
  const name = RESOURCES[which] ? which : 'surfaces';
  const r = RESOURCES[name];
  const tabs = h('nav', { class: 'tabs', 'aria-label': 'Program sections' }, Object.entries(RESOURCES).map(([k, v]) =>
    h('a', { href: '#/program/' + k, 'aria-current': k === name ? 'page' : null }, v.title)));
  const list = h('section', { 'aria-live': 'polite' });
  const editor = h('div');
  const filters = r.filters.map(([f, label, opts]) => [f, input(f, opts, true)]);
  const search = h('form', { class: 'filters', role: 'search', 'aria-label': 'Search ' + r.title.toLowerCase() },
    filters.map(([f, el], i) => field(r.filters[i][1], el)), h('button', { type: 'submit' }, 'Search'));
  const cursors = [];
  const load = async (cursor) => {
    const params = Object.fromEntries(filters.map(([f, el]) => [f, el.value.trim()]));
    if (r.filters.some(([f, , o]) => o?.required && !params[f])) {
      return clear(list, h('p', { class: 'empty' }, 'Enter a ' + r.filters.find(([, , o]) => o?.required)[1].toLowerCase() + ' to list them.'));
    }
    let page;
    try {
      page = await api.get(r.path + qs({ ...params, limit: 25, cursor }));
    } catch (e) {
      return clear(list, errorBox(e));
    }
    const rows = page.items.map((item) => [
      ...r.columns.map(([c]) => cell(c, item[c])),
      r.edit ? h('button', { type: 'button', onclick: () => edit(item) }, 'Edit') : null,
    ].filter((c) => c !== null));
    const headers = r.columns.map(([, label]) => label).concat(r.edit ? ['Action'] : []);
    clear(list, table(r.title, headers, rows, 'None found.'),
      h('div', { class: 'actions' },
        cursors.length ? h('button', { type: 'button', onclick: () => { cursors.pop(); load(cursors[cursors.length - 1]); } }, 'Previous page') : null,
        page.nextCursor ? h('button', { type: 'button', onclick: () => { cursors.push(page.nextCursor); load(page.nextCursor); } }, 'Next page') : null));
  };
  const edit = (item) => {
    const inputs = r.edit.map(([f, , opts]) => [f, input(f, opts, false, item[f])]);
    const out = h('div', { 'aria-live': 'polite' });
    const form = h('form', { class: 'card', 'aria-labelledby': 'edit-h' },
      h('h2', { id: 'edit-h' }, `Edit ${item[r.key]}`),
      inputs.map(([, el], i) => field(r.edit[i][1], el)), h('button', { type: 'submit' }, 'Save'), out);
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      try {
        await api.patch(`${r.path}/${encodeURIComponent(item[r.key])}`, body(inputs, r.edit));
        announce('Saved.');
        clear(editor);
        load(cursors[cursors.length - 1]);
      } catch (e) {
        clear(out, errorBox(e));
      }
    });
    clear(editor, form);
    form.querySelector('input, select')?.focus();
  };
  search.addEventListener('submit', (ev) => { ev.preventDefault(); cursors.length = 0; load(); });
  clear(main, h('h1', null, 'Program'), tabs, h('h2', null, r.title), search, list, editor, createForm(api, r, () => load()));
  load();
}

function createForm(api, r, reload) {
  const inputs = r.create.map(([f, , opts]) => [f, input(f, opts, false)]);
  const out = h('div', { 'aria-live': 'polite' });
  const form = h('form', { class: 'card', 'aria-labelledby': 'create-h' },
    h('h2', { id: 'create-h' }, 'New ' + r.title.toLowerCase().replace(/s$/, '')),
    inputs.map(([, el], i) => field(r.create[i][1], el, r.create[i][2]?.hint)),
    h('button', { type: 'submit' }, 'Create'), out);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    try {
      const created = await api.post(r.path, body(inputs, r.create));
      clear(out, h('p', { role: 'status' }, r.created ? r.created(created) : `Created ${created[r.key]}.`));
      form.reset();
      reload();
    } catch (e) {
      clear(out, errorBox(e));
    }
  });
  return form;
}

function input(name, opts, forFilter, value) {
  if (opts?.options) {
    return select(name, [['', forFilter ? 'Any' : '—']].concat(opts.options), value ?? '');
  }
  return h('input', { name, type: opts?.type ?? 'text', value: value ?? '', required: !forFilter && opts?.required });
}

/** Only the fields filled in: empty means "not given" to the admin API. */
function body(inputs, spec) {
  const out = {};
  inputs.forEach(([f, el], i) => {
    const v = el.value.trim();
    if (v === '') return;
    out[f] = spec[i][2]?.type === 'number' ? Number(v) : v;
  });
  return out;
}

function cell(name, v) {
  if (v == null) return '—';
  if (name.endsWith('At')) return time(v);
  if (name === 'trackingUrl' || name === 'destinationUrl') return h('code', null, v);
  return String(v);
}
