// The console's entry point: shows one view at a time (the URL's #fragment picks it), follows the
// emulator's change events and tells each view what moved, and asks for the control token when
// the emulator wants one.
import { follow, get, onUnauthorized, setToken, token } from './api.js';
import { coalesce, h, notify, replace } from './dom.js';
import phone from './phone.js';
import registration from './registration.js';
import requests from './requests.js';
import clock from './clock.js';
import scenario from './scenario.js';

const views = [phone, registration, requests, clock, scenario];
const byId = Object.fromEntries(views.map((v) => [v.id, v]));
// What changed since a hidden view last refreshed, so it catches up when shown.
const pending = new Map(views.map((v) => [v.id, { store: true, journal: true, control: true, fresh: true }]));

let current = null;
let last = null;
let stop = null;

function show() {
  const id = byId[location.hash.slice(1)] ? location.hash.slice(1) : views[0].id;
  current = id;
  for (const v of views) {
    document.getElementById(v.id).hidden = v.id !== id;
    const tab = document.querySelector(`nav a[href="#${v.id}"]`);
    if (v.id === id) tab.setAttribute('aria-current', 'page');
    else tab.removeAttribute('aria-current');
  }
  const p = pending.get(id);
  if (p && last) {
    pending.delete(id);
    byId[id].refresh(p);
  }
}

function changed(ev, fresh) {
  const what = {
    fresh,
    store: fresh || ev.store !== last.store,
    journal: fresh || ev.journal !== last.journal,
    control: fresh || ev.control !== last.control,
  };
  last = ev;
  if (what.control) header();
  for (const v of views) {
    if (v.id === current) {
      v.refresh(what);
      continue;
    }
    const p = pending.get(v.id) || { store: false, journal: false, control: false, fresh: false };
    for (const k of Object.keys(what)) p[k] = p[k] || what[k];
    pending.set(v.id, p);
  }
}

const header = coalesce(async () => {
  const health = await get('/_acmock/health');
  document.getElementById('scenario-name').textContent = health.scenario;
  document.getElementById('clock-mode').textContent = health.clock + ' clock';
  const storage = document.getElementById('storage');
  storage.textContent = health.storage === 'disk' ? `state on disk: ${health.data_dir}` : 'state in memory (lost on exit)';
  storage.title = health.storage === 'disk' ? 'Every change is saved before it is answered (--data)' : 'Start acmock with --data DIR to keep it';
  reloadProblems(health.reload);
});

// reloadProblems shows why the last reload of the scenario file (--watch, SIGHUP) was refused,
// until a good one replaces it.
function reloadProblems(r) {
  const el = document.getElementById('reload');
  el.hidden = !r || r.ok;
  if (el.hidden) return;
  const problems = r.problems || [];
  replace(el,
    h('p', {}, `The scenario file ${r.file} was not reloaded: the scenario loaded before it stays. `,
      r.error || `${problems.length} problem${problems.length === 1 ? '' : 's'}:`),
    problems.length ? h('ul', {}, problems.map((p) => h('li', {}, p.text))) : null);
}

function connection(state) {
  const el = document.getElementById('connection');
  el.dataset.state = state;
  el.textContent = { live: 'Live', reconnecting: 'Reconnecting…', unauthorized: 'Token needed' }[state] || state;
  // Nothing on the page works while the emulator is away: its buttons wait for it (a disabled
  // fieldset disables every control inside, and gives each back its own state after).
  document.getElementById('live').disabled = state !== 'live';
}

function start() {
  if (stop) stop();
  document.getElementById('token-form').hidden = true;
  document.querySelector('main').hidden = false;
  stop = follow(changed, connection);
}

onUnauthorized(() => {
  if (stop) stop();
  stop = null;
  connection('unauthorized');
  const form = document.getElementById('token-form');
  document.querySelector('main').hidden = true;
  form.hidden = false;
  document.getElementById('token-error').textContent = token()
    ? 'That token was refused. Use the one acmock was started with (--control-token).'
    : '';
  document.getElementById('token-input').focus();
  header(); // /_acmock/health needs no token
});

document.getElementById('token-form').addEventListener('submit', (e) => {
  e.preventDefault();
  setToken(document.getElementById('token-input').value.trim());
  notify('');
  start();
});

for (const v of views) v.init(document.getElementById(v.id));
window.addEventListener('hashchange', show);
show();
start();
