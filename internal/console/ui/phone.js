// The Phone view: per application, its users and their phones; a live login shows as a push
// notification with the actions the real phone has, limited to what the transition table allows.
// Every action goes through POST /_acmock/sessions/{token}/status, as `acmock approve` does.
import { get, post, query } from './api.js';
import * as apps from './apps.js';
import { attempt, coalesce, h, notify, reconcile, replace, short, time } from './dom.js';

// The phone's actions: the label (also the button's accessible name), the status it sets and the
// statuses it is offered from. The server's `allowed` list has the last word.
const ACTIONS = [
  { label: 'Approve', to: 'active', from: ['pending', 'identifying'], done: 'approved' },
  { label: 'Deny', to: 'cancelled', from: ['pending', 'identifying'], done: 'denied' },
  { label: 'Ignore', ignore: true, from: ['pending', 'identifying'],
    title: 'Leave the request unanswered: the login times out when its timeout is due' },
  { label: 'Walk away', to: 'walkaway', from: ['active'], done: 'walked away from' },
  { label: 'Come back', to: 'active', from: ['walkaway'], done: 'came back to' },
  { label: 'End session', to: 'closed', from: ['pending', 'identifying', 'active', 'walkaway'], done: 'ended' },
  { label: 'Fail', to: 'failed', from: ['pending', 'identifying', 'active', 'walkaway'], done: 'failed' },
];

const HEADLINE = {
  pending: 'Login request',
  identifying: 'Identifying…',
  active: 'Logged in',
  walkaway: 'Walked away',
};

const VERB = {
  active: ' is logged in to ',
  walkaway: ' walked away from ',
};

// MAX_PHONES bounds what one refresh draws; the filter narrows to the rest.
const MAX_PHONES = 60;

let root;
let appSelect;
let filterInput;
let list;
let more;
let secretBox;
let shownSecret = null; // the application whose secret the user asked to see
// The logins this page was told to ignore (session tokens): they stay pending on the emulator and
// time out when their timeout step is due; only live sessions are remembered.
let ignored = new Set();

function init(el) {
  root = el;
  appSelect = el.querySelector('#phone-app');
  filterInput = el.querySelector('#phone-filter');
  list = el.querySelector('#phones');
  more = el.querySelector('#phones-more');
  secretBox = el.querySelector('#phone-secret');
  apps.bind(appSelect, () => {
    hideSecret();
    refreshNow();
  });
  filterInput.addEventListener('input', () => refreshNow());
  el.querySelector('#phone-secret-toggle').addEventListener('click', toggleSecret);
}

async function toggleSecret() {
  if (shownSecret) {
    hideSecret();
    return;
  }
  const app = apps.chosen();
  const cred = await get(`/_acmock/applications/${encodeURIComponent(app)}/credentials`);
  shownSecret = app;
  replace(secretBox, h('code', {}, cred.secret));
  root.querySelector('#phone-secret-toggle').textContent = 'Hide secret';
}

function hideSecret() {
  shownSecret = null;
  replace(secretBox);
  root.querySelector('#phone-secret-toggle').textContent = 'Show secret';
}

const refreshNow = coalesce(async () => {
  const id = await apps.load();
  if (shownSecret && shownSecret !== id) hideSecret();
  const app = id ? (await get('/_acmock/users' + query({ application: id }))).applications[0] : null;
  if (!app) {
    reconcile(list, [], null, null, null);
    more.textContent = 'No application: load a scenario.';
    return;
  }
  const { sessions } = await get('/_acmock/sessions' + query({ application: app.id, live: true }));
  // Forget ignored logins that ended or were answered some other way.
  ignored = new Set(sessions.filter((s) => ignored.has(s.token) && canIgnore(s)).map((s) => s.token));
  const timeouts = new Map();
  if (ignored.size) {
    const { steps } = await get('/_acmock/timeline' + query({ limit: 1000 }));
    for (const st of steps) if (st.cause === 'timeout' && ignored.has(st.session)) timeouts.set(st.session, st);
  }
  const byUser = new Map();
  for (const s of sessions) {
    if (!byUser.has(s.user)) byUser.set(s.user, []);
    byUser.get(s.user).push(s);
  }
  const needle = filterInput.value.trim().toLowerCase();
  const users = app.users.filter((u) => !needle || u.id.toLowerCase().includes(needle));
  const shown = users.slice(0, MAX_PHONES).map((u) => ({
    app: app.id, user: u,
    sessions: (byUser.get(u.id) || []).map((s) => ignored.has(s.token) ? { ...s, ignored: timeouts.get(s.token) || {} } : s),
  }));
  reconcile(list, shown, (x) => x.app + '\n' + x.user.id, (x) => JSON.stringify(x),
    (x) => phoneCard(x.app, x.user, x.sessions));
  if (!users.length) more.textContent = 'No users match.';
  else if (users.length > MAX_PHONES) more.textContent = `Showing ${MAX_PHONES} of ${users.length} users; type in Find user to see others.`;
  else more.textContent = '';
});

function phoneCard(appID, user, sessions) {
  const p = user.phone;
  let state;
  if (!p) state = h('p', { class: 'muted' }, 'No phone registered');
  else if (p.lost) state = h('p', { class: 'lost' }, 'Phone lost');
  else state = h('p', { class: 'muted' }, `Methods: ${p.methods.length ? p.methods.join(', ') : 'any'}`);
  const screen = sessions.length
    ? sessions.slice().reverse().map((s) => notification(appID, s))
    : h('p', { class: 'idle' }, p && !p.lost ? 'No login waiting' : '—');
  return h('article', { class: 'phone', 'aria-label': `Phone of ${user.id}`, 'data-card': user.id, tabindex: -1 },
    h('header', {}, h('h3', {}, user.id), state),
    h('div', { class: 'screen' }, screen));
}

function canIgnore(s) {
  return s.status === 'pending' || s.status === 'identifying';
}

function notification(appID, s) {
  if (s.ignored) return ignoredNote(appID, s);
  const methods = s.methods.length ? s.methods.join(', ') : 'any method';
  const actions = ACTIONS.filter((a) => a.from.includes(s.status) && (a.ignore || s.allowed.includes(a.to)));
  const started = s.history.length ? time(s.history[0].at) : '';
  return h('section', { class: `notification ${s.status}`, 'aria-label': `${HEADLINE[s.status] || s.status} for ${s.user}` },
    h('p', { class: 'headline' }, HEADLINE[s.status] || s.status),
    h('p', {}, h('strong', {}, s.user), VERB[s.status] || ' wants to log in to ', h('code', { class: 'app-id' }, appID)),
    h('p', { class: 'muted' }, `${methods} · login ${s.attempt} · since ${started} · `,
      h('span', { title: s.token }, short(s.token))),
    h('div', { class: 'actions' }, actions.map((a) =>
      h('button', {
        type: 'button', class: a.to, title: a.title, 'data-key': `${s.token}:${a.label}`,
        onclick: () => act(s, a),
      }, a.label))));
}

// ignoredNote stands for a login the user ignored: no buttons, and when it will time out.
function ignoredNote(appID, s) {
  const due = s.ignored.due ? `It times out at ${time(s.ignored.due)} on the scenario clock.` : 'It times out when its timeout is due.';
  return h('section', { class: 'notification ignored', 'aria-label': `Ignored login for ${s.user}` },
    h('p', { class: 'headline' }, 'Ignored'),
    h('p', {}, h('strong', {}, s.user), ' asked to log in to ', h('code', { class: 'app-id' }, appID), '; nobody answered.'),
    h('p', { class: 'muted' }, due, ' ', h('span', { title: s.token }, short(s.token))));
}

function act(s, a) {
  const card = s.user;
  const after = async () => {
    await refreshNow();
    keepFocus(card);
  };
  if (a.ignore) {
    ignored.add(s.token);
    notify(`${s.user}: ignored the login; it stays pending until it times out`);
    return after();
  }
  return attempt(() => post(`/_acmock/sessions/${encodeURIComponent(s.token)}/status`, { status: a.to }),
    (res) => `${s.user}: ${a.done} the login (${res.status})`, after);
}

// keepFocus: the pressed button is gone after an action; rather than let the keyboard fall back
// to the page's start, give it to the first button left on that user's phone, or the phone.
function keepFocus(user) {
  if (document.activeElement && document.activeElement !== document.body && document.activeElement.isConnected) return;
  const card = list.querySelector(`article[data-card="${CSS.escape(user)}"]`);
  if (!card) return;
  (card.querySelector('.screen button:not([disabled])') || card).focus();
}

function refresh(what) {
  if (what.store || what.control) refreshNow();
}

export default { id: 'phone', init, refresh };
