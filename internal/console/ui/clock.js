// The Clock view: the time scenario timelines run on, the steps waiting to fire and, on a virtual
// clock, buttons that move it (POST /_acmock/clock/advance, as `acmock advance` does).
import { get, post } from './api.js';
import { coalesce, h, notify, replace, short, time } from './dom.js';

let root;
let rows;
let nowEl;
let modeNote;
let autoNote;
let countEl;
let state = null; // the last timeline read, with the local time it was read at
let ticker = null;

function init(el) {
  root = el;
  rows = el.querySelector('#timeline-rows');
  nowEl = el.querySelector('#clock-now');
  modeNote = el.querySelector('#clock-real-note');
  autoNote = el.querySelector('#clock-auto-note');
  countEl = el.querySelector('#timeline-count');
  for (const b of el.querySelectorAll('button[data-advance]')) {
    b.addEventListener('click', () => advance(b.dataset.advance));
  }
  el.querySelector('#advance-form').addEventListener('submit', (e) => {
    e.preventDefault();
    advance(el.querySelector('#advance-duration').value.trim());
  });
}

// duration says a number of milliseconds the way people read it: 2 s, 1 min 30 s.
export function duration(ms) {
  if (ms < 1000) return `${ms} ms`;
  const s = Math.round(ms / 1000);
  const parts = [];
  if (s >= 3600) parts.push(`${Math.floor(s / 3600)} h`);
  if (s % 3600 >= 60) parts.push(`${Math.floor((s % 3600) / 60)} min`);
  if (s % 60 || !parts.length) parts.push(`${s % 60} s`);
  return parts.join(' ');
}

async function advance(d) {
  const input = root.querySelector('#advance-duration');
  input.removeAttribute('aria-invalid');
  try {
    const c = await post('/_acmock/clock/advance', { duration: d });
    const fired = c.fired || 0;
    notify(`Advanced ${d}: ${fired} step${fired === 1 ? '' : 's'} fired; the clock reads ${time(c.now)}`);
  } catch (err) {
    if (err.body.field === 'duration') input.setAttribute('aria-invalid', 'true');
    notify(err.message, true);
  }
}

const refreshNow = coalesce(async () => {
  const tl = await get('/_acmock/timeline');
  state = { tl, at: Date.now() };
  const virtual = tl.mode !== 'real'; // 'virtual' or 'auto' (which status polls move too)
  modeNote.hidden = virtual;
  for (const b of root.querySelectorAll('#clock-controls button, #clock-controls input')) b.disabled = !virtual;
  replace(rows, tl.steps.map((st) => h('tr', {},
    h('td', { class: 'num', 'data-due': st.due }, duration(st.in_ms)),
    h('td', {}, time(st.due)),
    h('td', {}, st.user),
    h('td', { class: 'mono', title: st.session }, short(st.session)),
    h('td', {}, st.session_status),
    h('td', { class: st.status === 'active' ? 'ok' : 'bad' }, st.status),
    h('td', {}, st.cause === 'timeout' ? 'timeout (unless answered)' : 'scenario'))));
  countEl.textContent = tl.total
    ? `${tl.total} step${tl.total === 1 ? '' : 's'} pending${tl.total > tl.steps.length ? `, the first ${tl.steps.length} shown` : ''}`
    : 'Nothing is scheduled: steps appear when a login starts.';
  show();
  clearInterval(ticker);
  ticker = virtual ? null : setInterval(show, 1000); // a real clock moves by itself
});

// show draws the clock's time and, on a real clock, how long each step still has to go.
function show() {
  if (!state) return;
  const { tl, at } = state;
  const elapsed = tl.mode === 'real' ? Date.now() - at : 0;
  const now = new Date(new Date(tl.now).getTime() + elapsed);
  const name = { real: 'Real clock', virtual: 'Virtual clock', auto: 'Automatic virtual clock' }[tl.mode] || tl.mode;
  nowEl.textContent = `${name}: ${time(now.toISOString(), true)}`;
  autoNote.hidden = tl.mode !== 'auto';
  if (elapsed) {
    for (const td of rows.querySelectorAll('td[data-due]')) {
      td.textContent = duration(Math.max(0, new Date(td.dataset.due) - now));
    }
  }
}

function refresh(what) {
  if (what.store || what.control) refreshNow();
}

export default { id: 'clock', init, refresh };
