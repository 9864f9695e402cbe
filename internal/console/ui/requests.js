// The Requests view: the request journal, live, newest first, filtered by application, user,
// operation and status on the server (GET /_acmock/requests takes the same filters as the CLI).
// A row opens the details, with the string the emulator signed when a signature did not match.
import { get, query } from './api.js';
import * as apps from './apps.js';
import { coalesce, h, replace, time, TYPING_PAUSE_MS } from './dom.js';

// MAX_ROWS bounds the rows kept on the page; the journal keeps more (see --journal-size).
const MAX_ROWS = 500;

let tbody;
let details;
let appSelect;
let userInput;
let opSelect;
let statusInput;
let countEl;
let entries = []; // newest first, at most MAX_ROWS
const operations = new Set();
let full = true; // the next refresh reads everything that matches, not only what is new
let openSeq = null;

function init(el) {
  tbody = el.querySelector('#requests-rows');
  details = el.querySelector('#request-details');
  appSelect = el.querySelector('#requests-app');
  userInput = el.querySelector('#requests-user');
  opSelect = el.querySelector('#requests-operation');
  statusInput = el.querySelector('#requests-status');
  countEl = el.querySelector('#requests-count');
  apps.bind(appSelect, () => reload(), { all: true });
  // Typing waits for a pause, so a word is one read of the journal, not one per keystroke.
  for (const input of [userInput, statusInput]) {
    input.addEventListener('input', () => {
      clearTimeout(typing);
      typing = setTimeout(reload, TYPING_PAUSE_MS);
    });
  }
  opSelect.addEventListener('change', () => reload());
  el.querySelector('#request-close').addEventListener('click', closeDetails);
  details.addEventListener('keydown', (ev) => {
    if (ev.key === 'Escape') closeDetails();
  });
}

// closeDetails hides the panel and gives the keyboard back to the row it was opened from.
function closeDetails() {
  const seq = openSeq;
  showDetails(null);
  const btn = seq !== null && tbody.querySelector(`[data-key="req:${seq}"]`);
  if (btn) btn.focus();
}

let typing = null; // the timer of a reload waiting for the typing to pause

function reload() {
  clearTimeout(typing); // this reload reads every filter as it is now
  full = true;
  refreshNow();
}

function filters() {
  const status = statusInput.value.trim();
  return {
    application: appSelect.value,
    user: userInput.value.trim(),
    operation: opSelect.value,
    status: /^\d{1,3}$/.test(status) ? status : '',
  };
}

const refreshNow = coalesce(async () => {
  await apps.load();
  const f = filters();
  if (!full && entries.length) {
    // Only what is new; if the newest row is gone, the journal was cleared: read it all again.
    const got = (await get('/_acmock/requests' + query({ ...f, since: entries[0].seq - 1, limit: MAX_ROWS }))).entries;
    if (got.length && got[0].seq === entries[0].seq) {
      add(got.slice(1));
      return;
    }
  }
  full = false;
  entries = [];
  replace(tbody);
  // Only the newest rows the page keeps, not the whole journal (up to --journal-size).
  add((await get('/_acmock/requests' + query({ ...f, limit: MAX_ROWS }))).entries);
});

// add puts entries newer than every shown one on top, dropping the oldest rows past MAX_ROWS.
function add(newer) {
  for (const e of newer) if (e.operation) operations.add(e.operation);
  const top = newer.slice(-MAX_ROWS).reverse();
  entries = top.concat(entries).slice(0, MAX_ROWS);
  operationOptions();
  tbody.prepend(...top.map(row));
  while (tbody.rows.length > MAX_ROWS) tbody.lastElementChild.remove();
  countEl.textContent = entries.length ? `${entries.length} request${entries.length > 1 ? 's' : ''}${entries.length === MAX_ROWS ? ' (the newest)' : ''}` : 'No requests match.';
  if (openSeq !== null) {
    const e = entries.find((x) => x.seq === openSeq);
    if (e) showDetails(e);
  }
}

function operationOptions() {
  const have = [...opSelect.options].map((o) => o.value);
  const want = ['', ...[...operations].sort()];
  if (have.join('\n') === want.join('\n')) return;
  const keep = opSelect.value;
  opSelect.replaceChildren(...want.map((op) => h('option', { value: op }, op || 'All')));
  opSelect.value = keep;
}

function verdictClass(v) {
  return v === 'ok' ? 'ok' : v === 'off' || v === '' ? 'muted' : 'bad';
}

function row(e) {
  const open = () => showDetails(e, true);
  // The button's name is what it shows (the sequence number), with the word "Request" before it.
  return h('tr', { class: e.status >= 400 || e.status === 0 ? 'failed' : '', onclick: open },
    h('td', { class: 'num' }, h('button', {
      type: 'button', class: 'link', 'data-key': `req:${e.seq}`,
      onclick: (ev) => { ev.stopPropagation(); open(); },
    }, h('span', { class: 'visually-hidden' }, 'Request '), String(e.seq))),
    h('td', { class: 'num' }, time(e.time)),
    h('td', {}, e.method),
    h('td', { class: 'path mono', title: e.path }, e.path),
    h('td', {}, e.operation || ''),
    h('td', { class: e.status >= 400 || e.status === 0 ? 'bad' : 'ok' }, e.status || 'dropped'),
    h('td', { class: verdictClass(e.hmac) }, e.hmac || '—'),
    h('td', { class: 'num' }, `${e.latency_ms.toFixed(1)} ms`),
    h('td', {}, e.fault || ''));
}

// showDetails opens e's details above the table (or closes them for null); focus moves into the
// panel when the user opened it, so Close details and Escape are one key away.
function showDetails(e, byUser = false) {
  openSeq = e ? e.seq : null;
  details.hidden = !e;
  details.parentElement.classList.toggle('open', !!e);
  if (!e) return;
  const field = (name, value, cls) => value === undefined || value === '' || value === null ? null
    : [h('dt', {}, name), h('dd', { class: cls }, String(value))];
  replace(details.querySelector('dl'),
    field('Sequence', e.seq),
    field('Time', time(e.time, true)),
    field('Request', `${e.method} ${e.path}`, 'mono'),
    field('Operation', e.operation),
    field('Application', e.application, 'mono'),
    field('User', e.user),
    field('Session', e.session, 'mono'),
    field('Status', e.status || 'dropped (no answer)'),
    field('Signature', e.hmac || 'not checked'),
    field('Signature headers', (e.auth_headers || []).join(', '), 'mono'),
    field('Error', e.error),
    field('Message', e.message),
    field('Fault', e.fault),
    field('Latency', `${e.latency_ms.toFixed(2)} ms`));
  const sts = details.querySelector('#request-sts');
  sts.hidden = !e.string_to_sign;
  replace(sts.querySelector('pre'), e.string_to_sign || '');
  details.querySelector('h3').textContent = `Request ${e.seq}: ${e.operation || e.path}`;
  if (byUser) details.focus();
}

function refresh(what) {
  if (what.fresh) full = true;
  if (what.journal || what.control) refreshNow();
}

export default { id: 'requests', init, refresh };
