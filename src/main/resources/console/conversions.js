// Conversions: look one up by surface and external id, with its commission ledger.
import { h, field, table, time, errorBox, clear, qs } from './dom.js';
import { suggestSurfaces } from './surfaces.js';

export function conversions(main, api) {
  const surface = h('input', { name: 'surfaceId', type: 'text' });
  const externalId = h('input', { name: 'externalId', type: 'text' });
  const conversionId = h('input', { name: 'id', type: 'text', placeholder: 'cv_…' });
  const out = h('div', { 'aria-live': 'polite' });
  const form = h('form', { class: 'filters', role: 'search', 'aria-label': 'Find conversions' },
    field('Surface id', surface), field('External id', externalId, 'Empty: the surface’s newest conversions.'),
    field('Or conversion id', conversionId),
    h('button', { type: 'submit' }, 'Find'));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    try {
      const id = conversionId.value.trim();
      const page = await api.get('/conversions' + (id ? qs({ id })
        : qs({ surfaceId: surface.value.trim(), externalId: externalId.value.trim(), limit: 25 })));
      clear(out, page.items.length ? page.items.map(conversion) : h('p', { class: 'empty' }, 'No conversion found.'));
    } catch (e) {
      clear(out, errorBox(e));
    }
  });
  clear(main, h('h1', null, 'Conversions'), form, out);
  suggestSurfaces(api, surface);
}

function conversion(c) {
  const money = (minor, currency) => (minor == null ? '—' : `${(minor / 100).toFixed(2)} ${currency ?? ''}`);
  return h('article', { class: 'card' },
    h('h2', null, `${c.externalId} · ${c.eventType}`),
    h('dl', { class: 'facts' },
      [['Conversion id', c.id], ['Status', c.status], ['Approval', c.approval ?? '—'], ['Gross', money(c.grossMinor, c.currency)],
        ['Affiliate', c.affiliateId ?? '—'], ['Commission', money(c.commissionMinor, c.commissionCurrency)],
        ['Click', c.clickId ?? '—'], ['Promo code', c.promoCode ?? '—'], ['Refund of', c.refundOf ?? '—'],
        ['Fraud reason', c.fraudReason ?? '—']].map(([k, v]) => [h('dt', null, k), h('dd', null, v)]),
      h('dt', null, 'Occurred'), h('dd', null, time(c.occurredAt)), h('dt', null, 'Received'), h('dd', null, time(c.receivedAt))),
    table('Commission ledger', ['Entry', 'Kind', 'Affiliate', 'Amount', 'Refund', 'When'],
      (c.commissionEntries ?? []).map((e) => [h('code', null, e.id), e.kind, e.affiliateId ?? '—', money(e.amountMinor, e.currency),
        e.refundConversionId ?? '—', time(e.createdAt)]), 'No commission entries.'));
}
