// Webhook endpoints: the list with health, one endpoint's attempts and deliveries, and its actions.
// Shared by the operator console (admin API) and the integrator portal (portal API, scope fixed by the link).
import { h, field, select, table, time, percent, announce, errorBox, clear, qs } from './dom.js';

export async function endpointList(main, api, { scopeFields }) {
  clear(main, h('h1', null, 'Webhook endpoints'), h('p', { class: 'loading' }, 'Loading…'));
  let page;
  try {
    page = await api.get('/webhook-endpoints' + qs({ limit: 100 }));
  } catch (e) {
    return clear(main, h('h1', null, 'Webhook endpoints'), errorBox(e));
  }
  const healths = await Promise.all(page.items.map((e) => api.get(`/webhook-endpoints/${enc(e.id)}/health`).catch(() => null)));
  const rows = page.items.map((e, i) => {
    const health = healths[i];
    return [
      h('a', { href: `#/endpoints/${enc(e.id)}` }, e.url),
      scopeText(e),
      e.enabled ? 'enabled' : h('span', { class: 'bad' }, 'disabled' + (e.disabledReason ? ': ' + e.disabledReason : '')),
      health ? percent(health.successRate) : '—',
      health?.averageLatencyMs == null ? '—' : Math.round(health.averageLatencyMs) + ' ms',
      health ? String(health.dead) : '—',
      health?.lastError ? lastError(health.lastError) : '—',
    ];
  });
  clear(main,
    h('h1', null, 'Webhook endpoints'),
    table('Endpoints and their health over the last 24 hours',
      ['URL', 'Scope', 'State', 'Success rate', 'Avg latency', 'Dead letters', 'Last error'], rows,
      'No endpoints yet: add one below.'),
    createForm(api, scopeFields));
}

function createForm(api, scopeFields) {
  const url = h('input', { name: 'url', type: 'url', required: true, placeholder: 'https://example.com/webhooks' });
  const description = h('input', { name: 'description', type: 'text' });
  const types = h('input', { name: 'eventTypes', type: 'text', placeholder: 'conversion.created, conversion.refunded' });
  const surface = h('input', { name: 'surfaceId', type: 'text' });
  const affiliate = h('input', { name: 'affiliateId', type: 'text' });
  const out = h('div', { 'aria-live': 'polite' });
  const form = h('form', { class: 'card', 'aria-labelledby': 'new-endpoint' },
    h('h2', { id: 'new-endpoint' }, 'Add an endpoint'),
    field('URL', url),
    field('Description', description),
    field('Event types', types, 'Comma-separated; empty means every event type.'),
    scopeFields ? [field('Surface id', surface, 'Only events of this surface (optional).'),
      field('Affiliate id', affiliate, 'Only events of this affiliate (optional).')] : null,
    h('button', { type: 'submit' }, 'Add endpoint'),
    out);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const body = { url: url.value.trim() };
    if (description.value.trim()) body.description = description.value.trim();
    const list = types.value.split(',').map((s) => s.trim()).filter(Boolean);
    if (list.length) body.eventTypes = list;
    if (scopeFields && surface.value.trim()) body.surfaceId = surface.value.trim();
    if (scopeFields && affiliate.value.trim()) body.affiliateId = affiliate.value.trim();
    try {
      const created = await api.post('/webhook-endpoints', body);
      clear(out, secretNotice(created.secret),
        h('p', null, h('a', { href: `#/endpoints/${enc(created.id)}` }, 'Open the new endpoint')));
      announce('Endpoint added.');
    } catch (e) {
      clear(out, errorBox(e));
    }
  });
  return form;
}

export async function endpointDetail(main, api, id) {
  clear(main, h('h1', null, 'Webhook endpoint'), h('p', { class: 'loading' }, 'Loading…'));
  let endpoint;
  let health;
  try {
    [endpoint, health] = await Promise.all([api.get(`/webhook-endpoints/${enc(id)}`), api.get(`/webhook-endpoints/${enc(id)}/health`)]);
  } catch (e) {
    return clear(main, h('h1', null, 'Webhook endpoint'), errorBox(e), h('p', null, h('a', { href: '#/endpoints' }, 'Back to the endpoints')));
  }
  const out = h('div', { class: 'notice', 'aria-live': 'polite' });
  const attempts = h('section', { 'aria-labelledby': 'attempts-h' });
  const deliveries = h('section', { 'aria-labelledby': 'deliveries-h' });
  const reload = () => endpointDetail(main, api, id);
  const act = (label, fn) => h('button', { type: 'button', onclick: async () => {
    try {
      clear(out, await fn());
    } catch (e) {
      clear(out, errorBox(e));
    }
  } }, label);

  const since = h('input', { name: 'since', type: 'datetime-local' });
  const replayAll = h('form', { class: 'inline' },
    field('Replay dead and skipped deliveries since', since, 'Empty: all of them.'),
    h('button', { type: 'submit' }, 'Replay all since…'));
  replayAll.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    try {
      const from = since.value ? new Date(since.value).toISOString() : null;
      const r = await api.post(`/webhook-endpoints/${enc(id)}/replay` + qs({ since: from }));
      clear(out, h('p', null, `${r.replayed} deliveries scheduled again.`));
      announce(`${r.replayed} deliveries replayed.`);
      loadDeliveries(deliveries, api, id, 'dead');
    } catch (e) {
      clear(out, errorBox(e));
    }
  });

  clear(main,
    h('p', null, h('a', { href: '#/endpoints' }, '← All endpoints')),
    h('h1', null, endpoint.url),
    h('dl', { class: 'facts' },
      fact('Id', endpoint.id), fact('Scope', scopeText(endpoint)), fact('Description', endpoint.description ?? '—'),
      fact('Event types', endpoint.eventTypes ? endpoint.eventTypes.join(', ') : 'all'),
      fact('State', endpoint.enabled ? 'enabled' : 'disabled' + (endpoint.disabledReason ? ': ' + endpoint.disabledReason : '')),
      fact('Success rate (24 h)', h('span', { id: 'endpoint-success-rate' }, percent(health.successRate))),
      fact('Attempts (24 h)', String(health.attempts)),
      fact('Average latency', health.averageLatencyMs == null ? '—' : Math.round(health.averageLatencyMs) + ' ms'),
      fact('Pending / dead / skipped', `${health.pending} / ${health.dead} / ${health.skipped}`),
      fact('Last error', health.lastError ? lastError(health.lastError) : '—')),
    h('div', { class: 'actions' },
      act('Send test event', async () => {
        const r = await api.post(`/webhook-endpoints/${enc(id)}/test`);
        announce('Test event sent.');
        return h('p', null, `Test event ${r.eventId} queued as delivery ${r.deliveryId}.`);
      }),
      act(endpoint.enabled ? 'Disable' : 'Enable', async () => {
        await api.patch(`/webhook-endpoints/${enc(id)}`, { enabled: !endpoint.enabled });
        announce(endpoint.enabled ? 'Endpoint disabled.' : 'Endpoint enabled.');
        setTimeout(reload, 0);
        return null;
      }),
      act('Rotate secret', async () => {
        if (!confirm('Rotate the signing secret? The old one stays valid for the grace period.')) return null;
        const r = await api.post(`/webhook-endpoints/${enc(id)}/secrets`);
        return secretNotice(r.secret, r.previousSecretValidUntil);
      })),
    replayAll,
    out,
    deliveries,
    attempts);
  loadDeliveries(deliveries, api, id, 'dead');
  loadAttempts(attempts, api, id);
}

async function loadDeliveries(section, api, endpointId, status) {
  const filter = select('status', [['dead', 'Dead letters'], ['pending', 'Pending'], ['succeeded', 'Succeeded'], ['skipped', 'Skipped']], status);
  filter.id = 'delivery-status';
  filter.addEventListener('change', () => loadDeliveries(section, api, endpointId, filter.value));
  const head = [h('h2', { id: 'deliveries-h' }, 'Deliveries'), h('div', { class: 'inline' }, field('Show', filter))];
  let page;
  try {
    page = await api.get('/deliveries' + qs({ endpointId, status, limit: 50 }));
  } catch (e) {
    return clear(section, head, errorBox(e));
  }
  const rows = page.items.map((d) => [
    h('code', null, d.id), d.eventType, h('span', { class: 'status-' + d.status }, d.status), String(d.attempts),
    d.lastStatusCode == null ? '—' : String(d.lastStatusCode), d.lastError ?? '—', time(d.updatedAt),
    d.status === 'pending' ? '' : h('button', { type: 'button', 'aria-label': 'Replay delivery ' + d.id, onclick: async (ev) => {
      try {
        await api.post(`/deliveries/${enc(d.id)}/replay`);
        ev.target.replaceWith(h('span', null, 'replayed'));
        announce(`Delivery ${d.id} replayed.`);
      } catch (e) {
        ev.target.replaceWith(errorBox(e));
      }
    } }, 'Replay'),
  ]);
  clear(section, head, table(`Deliveries: ${status}`,
    ['Delivery', 'Event', 'Status', 'Attempts', 'Last status', 'Last error', 'Updated', 'Action'], rows,
    `No ${status} deliveries.`));
}

async function loadAttempts(section, api, id) {
  const head = h('h2', { id: 'attempts-h' }, 'Attempt log');
  let page;
  try {
    page = await api.get(`/webhook-endpoints/${enc(id)}/attempts` + qs({ limit: 50 }));
  } catch (e) {
    return clear(section, head, errorBox(e));
  }
  const rows = page.items.map((a) => [
    time(a.attemptedAt), h('code', null, a.deliveryId), String(a.attempt),
    h('span', { class: a.outcome === 'success' ? 'good' : 'bad' }, a.outcome),
    a.statusCode == null ? '—' : String(a.statusCode), a.latencyMs == null ? '—' : a.latencyMs + ' ms', a.error ?? '—',
    a.responseBody ? h('details', null, h('summary', null, 'Response body'), h('pre', null, a.responseBody)) : '—',
  ]);
  clear(section, head, table('Newest attempts first',
    ['When', 'Delivery', '#', 'Outcome', 'Status', 'Latency', 'Error', 'Response'], rows, 'No attempts yet.'));
}

function secretNotice(secret, graceUntil) {
  return h('div', { class: 'secret', role: 'status' },
    h('p', null, 'The signing secret, shown only this once:'),
    h('pre', null, h('code', null, secret)),
    graceUntil ? h('p', null, 'The previous secret stays valid until ', time(graceUntil), '.') : null);
}

function lastError(e) {
  return [time(e.attemptedAt), ' ', e.error ?? (e.statusCode == null ? '' : `HTTP ${e.statusCode}`)];
}

function scopeText(e) {
  const parts = [];
  if (e.surfaceId) parts.push('surface ' + e.surfaceId);
  if (e.affiliateId) parts.push('affiliate ' + e.affiliateId);
  return parts.length ? parts.join(', ') : 'all events';
}

function fact(name, value) {
  return [h('dt', null, name), h('dd', null, value)];
}

function enc(s) {
  return encodeURIComponent(s);
}
