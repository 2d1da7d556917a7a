// The overview: this instance's last hour from GET /admin/overview, refreshed live, charted with uPlot.
import uPlot from './lib/uplot/uPlot.esm.js';
import { h, table, percent, errorBox, clear } from './dom.js';

const REFRESH_MS = 5000;

export function overview(main, api) {
  const stats = h('div', { class: 'stats', 'aria-live': 'polite' });
  const reasons = h('section', { 'aria-labelledby': 'reasons-h' });
  const charts = h('div', { class: 'charts' });
  const deps = h('p', { class: 'deps' });
  clear(main,
    h('h1', null, 'Overview'),
    h('p', { class: 'lede', id: 'overview-scope' },
      'Postbacks, attribution and deliveries are counted by ', h('strong', null, 'this instance'),
      ' over the last hour; queue depth is counted in Postgres across all instances.'),
    deps, stats, charts, reasons);
  const plots = {};
  const load = async () => {
    let o;
    try {
      o = await api.get('/overview');
    } catch (e) {
      return clear(stats, errorBox(e));
    }
    const hour = o.lastHour;
    clear(deps, 'Dependencies: ', Object.entries(o.dependencies).map(([name, up]) =>
      h('span', { class: up ? 'dep good' : 'dep bad', id: 'dep-' + name }, `${name} ${up ? 'up' : 'DOWN'}`)));
    clear(stats,
      stat('stat-accepted', 'Accepted postbacks', hour.accepted),
      stat('stat-rejected', 'Rejected postbacks', hour.rejected),
      stat('stat-duplicate', 'Duplicates', hour.duplicate),
      stat('stat-attribution', 'Attribution rate', percent(hour.attributionRate)),
      stat('stat-delivery-success', 'Delivery success rate', percent(hour.deliverySuccessRate)),
      stat('stat-pending', 'Deliveries pending (all instances)', o.queue.pending),
      stat('stat-in-flight', 'In flight (all instances)', o.queue.inFlight),
      stat('stat-dead', 'Dead letters (all instances)', o.queue.dead));
    clear(reasons, h('h2', { id: 'reasons-h' }, 'Rejections by reason, last hour'),
      table('Rejected postbacks by error code', ['Error code', 'Count'],
        Object.entries(hour.rejectionsByReason).sort((a, b) => b[1] - a[1]).map(([k, v]) => [h('code', null, k), String(v)]),
        'No rejections in the last hour.'));
    const s = o.series;
    chart(plots, charts, 'postbacks', 'Postbacks per second by outcome', [s.t, s.acceptedPerSecond, s.duplicatePerSecond, s.rejectedPerSecond],
      [['accepted', '#1a7f37'], ['duplicate', '#8250df'], ['rejected', '#cf222e']]);
    chart(plots, charts, 'queue', 'Delivery queue depth', [s.t, s.pending, s.inFlight, s.dead],
      [['pending', '#0969da'], ['in flight', '#bf8700'], ['dead', '#cf222e']]);
    chart(plots, charts, 'success', 'Delivery success rate', [s.t, s.deliverySuccessRate.map((x) => (x == null ? null : x * 100))],
      [['success %', '#1a7f37']]);
  };
  load();
  const timer = setInterval(() => {
    if (!document.body.contains(stats)) return clearInterval(timer);
    load();
  }, REFRESH_MS);
}

function stat(id, label, value) {
  return h('div', { class: 'stat' }, h('span', { class: 'label', id: id + '-label' }, label),
    h('span', { class: 'value', id, 'aria-labelledby': id + '-label' }, String(value)));
}

function chart(plots, container, key, title, data, series) {
  let entry = plots[key];
  if (!entry) {
    const target = h('div', { class: 'plot', role: 'img', 'aria-label': title + ', last hour' });
    container.append(h('figure', { class: 'chart' }, h('figcaption', null, title), target));
    entry = plots[key] = { target };
  }
  // The chart takes its cell's width, which the grid decides (one to three per row).
  const width = Math.max(240, entry.target.clientWidth);
  if (entry.plot && entry.width === width) {
    entry.plot.setData(data);
    return;
  }
  entry.plot?.destroy();
  entry.width = width;
  entry.plot = new uPlot({
    width, height: 180,
    series: [{}, ...series.map(([label, stroke]) => ({ label, stroke, width: 2, spanGaps: true }))],
    axes: [{}, { size: 50 }],
    legend: { live: false },
  }, data, entry.target);
}
