// Suggests surface ids in a text field (a datalist from GET /admin/surfaces), and fills in the demo surface,
// or the only one, when the field is empty: a new user sees their postbacks without typing an id. A field
// the user has touched meanwhile is left alone: the list arrives late, and writing then would mix the
// suggestion into what is being typed.
import { h } from './dom.js';

export async function suggestSurfaces(api, input, onFilled) {
  let touched = false;
  const touch = () => { touched = true; };
  input.addEventListener('focus', touch, { once: true });
  input.addEventListener('input', touch, { once: true });
  let page;
  try {
    page = await api.get('/surfaces?limit=100');
  } catch {
    return;   // suggestions only: the field still takes any id
  }
  const list = h('datalist', { id: input.id + '-surfaces' }, page.items.map((s) => h('option', { value: s.id }, s.name)));
  input.after(list);
  input.setAttribute('list', list.id);
  if (!touched && !input.value && document.activeElement !== input) {
    const ids = page.items.map((s) => s.id);
    const pick = ids.includes('demo') ? 'demo' : ids.length === 1 ? ids[0] : null;
    if (pick) {
      input.value = pick;
      onFilled?.();
    }
  }
}
