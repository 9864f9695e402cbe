// The Registration view: each user's registration links and the SMS outbox, newest first. Open on
// phone does what the mobile app does with a link (GET /_acmock/register/{code}); Lose phone does
// what lost_user_mobile_device does.
import { get, post, query } from './api.js';
import * as apps from './apps.js';
import { afterTyping, attempt, coalesce, count, h, reconcile, time } from './dom.js';

const MAX_USERS = 60;
const MAX_SMS = 100;

let usersEl;
let usersMore;
let outboxEl;
let outboxMore;
let filterInput;

function init(el) {
  usersEl = el.querySelector('#registration-users');
  usersMore = el.querySelector('#registration-more');
  outboxEl = el.querySelector('#outbox');
  outboxMore = el.querySelector('#outbox-more');
  filterInput = el.querySelector('#registration-filter');
  apps.bind(el.querySelector('#registration-app'), () => refreshNow());
  afterTyping(filterInput, () => refreshNow());
}

// The users shown are the first MAX_USERS in the order they were added or, with Find user, the
// first whose ID starts with it (searched by the emulator, so every user can be found). The
// outbox is bounded (the last 1,000 messages) and says what became of each message's link.
const refreshNow = coalesce(async () => {
  const id = await apps.load();
  const needle = filterInput.value.trim();
  const [users, outbox] = await Promise.all([
    id ? get('/_acmock/users' + query({ application: id, prefix: needle, limit: MAX_USERS })) : { applications: [] },
    get('/_acmock/sms'),
  ]);
  const app = users.applications[0] || { id, users: [], user_count: 0 };
  reconcile(usersEl, app.users, (u) => app.id + '\n' + u.id, (u) => JSON.stringify(u), (u) => userCard(app.id, u));
  if (!app.users.length) usersMore.textContent = needle ? 'No users match.' : 'No users.';
  else if (!users.next_cursor) usersMore.textContent = '';
  else if (needle) usersMore.textContent = `Showing the first ${MAX_USERS} users whose ID starts with “${needle}”; type more of the ID to narrow.`;
  else usersMore.textContent = `Showing ${app.users.length} of ${count(app.user_count, 'user')}; type the start of an ID in Find user to see another.`;

  const messages = outbox.messages.filter((m) => m.application === app.id).reverse();
  const items = messages.slice(0, MAX_SMS).map((m, i) => ({ m, i: messages.length - i }));
  reconcile(outboxEl, items, (x) => `${x.i}`, (x) => JSON.stringify(x), smsItem);
  outboxMore.textContent = !messages.length ? 'No SMS sent yet.'
    : messages.length > MAX_SMS ? `Showing the newest ${MAX_SMS} of ${messages.length} messages.` : '';
});

function phoneState(p) {
  if (!p) return 'No phone registered';
  if (p.lost) return 'Phone lost';
  return `Phone registered ${time(p.registered_at)}`;
}

function userCard(appID, u) {
  const rows = u.links.slice().reverse().map((l) => h('tr', {},
    h('td', {}, h('code', { title: l.url }, l.code)),
    h('td', {}, l.display_name || ''),
    h('td', {}, time(l.created_at)),
    h('td', {}, l.used_at ? `used ${time(l.used_at)}` : openButton(u.id, l.code))));
  return h('article', { class: 'panel user', 'aria-label': `Registration of ${u.id}` },
    h('header', {},
      h('h3', {}, u.id),
      h('p', { class: u.phone && u.phone.lost ? 'lost' : 'muted' }, phoneState(u.phone)),
      u.phone && !u.phone.lost
        ? h('button', { type: 'button', 'data-key': `lose:${u.id}`, onclick: () => lose(appID, u.id) }, 'Lose phone')
        : null),
    rows.length
      ? h('table', {}, h('thead', {}, h('tr', {}, h('th', {}, 'Link'), h('th', {}, 'Display name'), h('th', {}, 'Created'), h('th', {}, 'Used'))),
        h('tbody', {}, rows))
      : h('p', { class: 'muted' }, 'No registration link handed out'));
}

function openButton(user, code) {
  return h('button', { type: 'button', class: 'primary', 'data-key': `open:${code}`, onclick: () => open(user, code) }, 'Open on phone');
}

function smsItem({ m }) {
  let link = h('span', { class: 'muted' }, 'link no longer works'); // gone: replaced by a newer one
  if (m.link_status === 'unused') link = openButton(m.user, m.code);
  if (m.link_status === 'used') link = h('span', { class: 'muted' }, `link used ${time(m.used_at)}`);
  return h('li', {}, h('article', { class: 'sms', 'aria-label': `SMS to ${m.phone_number} for ${m.user}` },
    h('p', { class: 'muted' }, `${time(m.sent_at)} · to `, h('strong', {}, m.phone_number), ` · user ${m.user}`),
    h('p', { class: 'body' }, m.body),
    link));
}

function open(user, code) {
  return attempt(() => get(`/_acmock/register/${encodeURIComponent(code)}`),
    () => `${user}: the phone opened the link and is registered`, refreshNow);
}

function lose(appID, user) {
  return attempt(() => post(`/_acmock/applications/${encodeURIComponent(appID)}/users/${encodeURIComponent(user)}/lose-phone`),
    () => `${user}: the phone is lost; a new registration link was handed out`, refreshNow);
}

function refresh(what) {
  if (what.store || what.control) refreshNow();
}

export default { id: 'registration', init, refresh };
