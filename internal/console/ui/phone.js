// The Phone view: per application, its users and their phones; a live login shows as a push
// notification with the actions the real phone has, limited to what the transition table allows.
// Every action goes through POST /_acmock/sessions/{token}/status, as `acmock approve` does.
import { collect, get, post, query } from './api.js';
import * as apps from './apps.js';
import { afterTyping, attempt, coalesce, count, h, notify, reconcile, replace, short, time } from './dom.js';

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

// What one refresh reads and draws is bounded, whatever the number of users and sessions:
// MAX_PHONES phones, MAX_NOTES notifications on each, and the newest LIVE_SWEEP live logins of
// the application (read newest first, page after page when the emulator's scan stops early).
const MAX_PHONES = 60;
const MAX_NOTES = 5;
const LIVE_SWEEP = 200;

let root;
let appSelect;
let filterInput;
let list;
let more;
let secretBox;
let shownSecret = null; // the application whose secret the user asked to see
// The logins this page was told to ignore (session token -> user): they stay pending on the
// emulator and time out when their timeout step is due. One is forgotten once its user's logins
// are known without it.
const ignored = new Map();

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
  afterTyping(filterInput, () => refreshNow());
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
  if (!id) {
    reconcile(list, [], null, null, null);
    more.textContent = 'No application: load a scenario.';
    return;
  }
  const needle = filterInput.value.trim();
  // The newest live logins, grouped by user (newest first): who has a login waiting.
  const sweep = await collect('/_acmock/sessions', { application: id, live: true, order: 'newest' }, (p) => p.sessions, LIVE_SWEEP);
  const waiting = new Map();
  for (const s of sweep.items) {
    if (!waiting.has(s.user)) waiting.set(s.user, []);
    waiting.get(s.user).push(s);
  }
  const { users, total, summary } = await phonesToShow(id, needle, waiting, sweep.more);
  const logins = await loginsOf(id, users, waiting);
  const timeouts = await ignoredTimeouts(logins);
  const shown = users.map((u) => {
    const { list: ss, rest } = logins.get(u.id);
    return {
      app: id, user: u, rest,
      sessions: ss.map((s) => ignored.has(s.token) ? { ...s, ignored: timeouts.get(s.token) || {} } : s),
    };
  });
  reconcile(list, shown, (x) => x.app + '\n' + x.user.id, (x) => JSON.stringify(x),
    (x) => phoneCard(x.app, x.user, x.sessions, x.rest));
  more.textContent = !users.length ? (needle ? 'No users match.' : 'No users.') : summary(total);
});

// phonesToShow picks the users whose phones are drawn. With Find user: the users whose ID starts
// with it. Else all users when they fit, in the order they were added; when they do not, first the
// users with a login waiting (newest login first), then the others in the order they were added.
async function phonesToShow(id, needle, waiting, moreWaiting) {
  if (needle) {
    const page = await get('/_acmock/users' + query({ application: id, prefix: needle, limit: MAX_PHONES }));
    const app = page.applications[0];
    return {
      users: app.users, total: app.user_count,
      summary: () => page.next_cursor
        ? `Showing the first ${MAX_PHONES} users whose ID starts with “${needle}”; type more of the ID to narrow.` : '',
    };
  }
  const page = await get('/_acmock/users' + query({ application: id, limit: MAX_PHONES }));
  const app = page.applications[0];
  if (!page.next_cursor) return { users: app.users, total: app.user_count, summary: () => '' };
  const known = new Map(app.users.map((u) => [u.id, u]));
  const first = [...waiting.keys()].slice(0, MAX_PHONES);
  const missing = first.filter((u) => !known.has(u));
  if (missing.length) {
    const named = await get('/_acmock/users' + query({ application: id, user: missing }));
    for (const u of named.applications[0].users) known.set(u.id, u);
  }
  const users = first.filter((u) => known.has(u)).map((u) => known.get(u))
    .concat(app.users.filter((u) => !waiting.has(u.id)))
    .slice(0, MAX_PHONES);
  return {
    users, total: app.user_count,
    summary: (total) => `Showing ${users.length} of ${count(total, 'user')}${waiting.size ? ', those with a login waiting first' : ''}` +
      `; type the start of an ID in Find user to see another.` +
      (moreWaiting ? ` More than ${count(LIVE_SWEEP, 'login')} are waiting: the users of the newest are shown.` : ''),
  };
}

// loginsOf returns, for each user, the newest MAX_NOTES of its live logins and how many more it
// has. The sweep holds them unless the application has more live logins than it read: then a
// user with more live logins (live_sessions) than the sweep found, and fewer found than are
// shown, is asked for its own, so no phone says "No login waiting" while one waits.
async function loginsOf(id, users, waiting) {
  const out = new Map();
  const ask = [];
  for (const u of users) {
    const got = waiting.get(u.id) || [];
    const live = Math.max(u.live_sessions, got.length); // read a moment apart
    if (got.length >= Math.min(live, MAX_NOTES)) out.set(u.id, { list: got.slice(0, MAX_NOTES), rest: live - Math.min(got.length, MAX_NOTES) });
    else ask.push(u);
  }
  await Promise.all(ask.map(async (u) => {
    const own = await collect('/_acmock/sessions', { application: id, user: u.id, live: true, order: 'newest' }, (p) => p.sessions, MAX_NOTES);
    out.set(u.id, { list: own.items, rest: Math.max(0, u.live_sessions - own.items.length) });
  }));
  return out;
}

// ignoredTimeouts forgets the ignored logins that ended or were answered some other way (their
// user's logins are known in full without them) and returns the timeout step of each one shown.
async function ignoredTimeouts(logins) {
  const shown = new Map();
  for (const { list: ss } of logins.values()) for (const s of ss) shown.set(s.token, s);
  for (const [token, user] of ignored) {
    const s = shown.get(token);
    const known = logins.get(user);
    if (s ? !canIgnore(s) : known && known.rest === 0) ignored.delete(token); // else not read
  }
  const timeouts = new Map();
  await Promise.all([...ignored.keys()].filter((t) => shown.has(t)).map(async (token) => {
    const { steps } = await get('/_acmock/timeline' + query({ session: token }));
    const st = steps.find((x) => x.cause === 'timeout');
    if (st) timeouts.set(token, st);
  }));
  return timeouts;
}

// phoneCard draws a user's phone with its live logins (newest first); rest counts those left out.
function phoneCard(appID, user, sessions, rest) {
  const p = user.phone;
  let state;
  if (!p) state = h('p', { class: 'muted' }, 'No phone registered');
  else if (p.lost) state = h('p', { class: 'lost' }, 'Phone lost');
  else state = h('p', { class: 'muted' }, `Methods: ${p.methods.length ? p.methods.join(', ') : 'any'}`);
  const screen = sessions.length
    ? sessions.map((s) => notification(appID, s))
    : h('p', { class: 'idle' }, p && !p.lost ? 'No login waiting' : '—');
  const others = rest > 0 ? `And ${count(rest, 'more login')} waiting; the newest ${sessions.length} are shown.` : null;
  return h('article', { class: 'phone', 'aria-label': `Phone of ${user.id}`, 'data-card': user.id, tabindex: -1 },
    h('header', {}, h('h3', {}, user.id), state),
    h('div', { class: 'screen' }, screen, others && h('p', { class: 'muted' }, others)));
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
    ignored.set(s.token, s.user);
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
