// Builds DOM nodes from data with textContent only: nothing from the API is ever parsed as HTML.
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs ?? {})) {
    if (v == null || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat(Infinity)) {
    if (c != null && c !== false) el.append(c instanceof Node ? c : String(c));
  }
  return el;
}

let fieldSeq = 0;

/** A labelled form field: the label names the input for screen readers and takes the click. */
export function field(label, input, hint) {
  if (!input.id) input.id = 'f' + (++fieldSeq);
  const hintEl = hint ? h('small', { id: input.id + '-hint', class: 'hint' }, hint) : null;
  if (hintEl) input.setAttribute('aria-describedby', hintEl.id);
  return h('div', { class: 'field' }, h('label', { for: input.id }, label), input, hintEl);
}

export function select(name, options, value) {
  return h('select', { name }, options.map(([v, text]) => h('option', { value: v, selected: v === value }, text)));
}

/** A table with a caption and header cells; rows are arrays of cells (strings or nodes). */
export function table(caption, headers, rows, empty = 'Nothing to show.') {
  if (rows.length === 0) return h('p', { class: 'empty' }, empty);
  return h('div', { class: 'table-wrap', tabindex: 0, role: 'region', 'aria-label': caption },
    h('table', null,
      h('caption', null, caption),
      h('thead', null, h('tr', null, headers.map((x) => h('th', { scope: 'col' }, x)))),
      h('tbody', null, rows.map((r) => h('tr', null, r.map((c) => h('td', null, c)))))));
}

export function time(iso) {
  if (!iso) return '—';
  const d = new Date(iso);
  return h('time', { datetime: iso, title: iso }, d.toLocaleString());
}

export function percent(x) {
  return x == null ? '—' : (x * 100).toFixed(1) + ' %';
}

/** Says something to screen readers and sighted users alike, in the page's status line. */
export function announce(text) {
  const status = document.getElementById('status');
  if (status) status.textContent = text;
}

/** An API error, in words, where the user is looking. */
export function errorBox(err) {
  return h('p', { class: 'error', role: 'alert' }, err?.message ?? String(err));
}

export function clear(el, ...children) {
  el.replaceChildren(...children.flat().filter((c) => c != null));
  return el;
}

export function qs(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v != null && v !== '') q.set(k, v);
  const s = q.toString();
  return s ? '?' + s : '';
}
