// The application the views show, shared: choosing one in any view's Application list chooses it
// in all of them (and it survives a reload of the tab).
import { get } from './api.js';
import { h } from './dom.js';

const KEY = 'acmock.application';
let current = sessionStorage.getItem(KEY) || '';
let ids = [];
const bound = [];

// bind makes select one of the Application lists; onChange runs when the choice changes.
export function bind(select, onChange, { all = false } = {}) {
  bound.push({ select, onChange, all });
  select.addEventListener('change', () => choose(select.value));
}

function choose(id) {
  current = id;
  sessionStorage.setItem(KEY, id);
  for (const b of bound) {
    if (b.select.value !== id) b.select.value = id;
    b.onChange();
  }
}

// load reads the applications, refreshes every list and returns the chosen application (the
// first one when the choice is gone, "" when there is none).
export async function load() {
  ids = (await get('/_acmock/applications')).applications.map((a) => a.id);
  if (current && !ids.includes(current)) current = '';
  if (!current && ids.length) current = ids[0];
  for (const b of bound) {
    const options = ids.map((id) => h('option', { value: id }, id));
    if (b.all) options.unshift(h('option', { value: '' }, 'All'));
    const same = b.select.options.length === options.length &&
      options.every((o, i) => b.select.options[i].value === o.value);
    if (!same) b.select.replaceChildren(...options);
    if (!b.all || b.select.value) b.select.value = current;
  }
  return current;
}

export function chosen() {
  return current;
}
