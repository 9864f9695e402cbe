// The Registration view: each user's registration links and the SMS outbox, newest first. Open on
// phone does what the mobile app does with a link (GET /_acmock/register/{code}); Lose phone does
// what lost_user_mobile_device does.
import { get, post, query } from './api.js';
import * as apps from './apps.js';
import { attempt, coalesce, h, reconcile, time } from './dom.js';

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
  filterInput.addEventListener('input', () => refreshNow());
}

const refreshNow = coalesce(async () => {
  const id = await apps.load();
  const [users, outbox] = await Promise.all([
    id ? get('/_acmock/users' + query({ application: id })) : { applications: [] },
    get('/_acmock/sms'),
  ]);
  const app = users.applications[0] || { id, users: [] };
  const links = new Map(); // url -> {user, link}
  for (const u of app.users) for (const l of u.links) links.set(l.url, { user: u, link: l });

  const needle = filterInput.value.trim().toLowerCase();
  const shown = app.users.filter((u) => !needle || u.id.toLowerCase().includes(needle));
  reconcile(usersEl, shown.slice(0, MAX_USERS), (u) => app.id + '\n' + u.id, (u) => JSON.stringify(u),
    (u) => userCard(app.id, u));
  usersMore.textContent = !shown.length ? 'No users match.'
    : shown.length > MAX_USERS ? `Showing ${MAX_USERS} of ${shown.length} users; type in Find user to see others.` : '';

  const messages = outbox.messages.filter((m) => m.application === app.id).reverse();
  const items = messages.slice(0, MAX_SMS).map((m, i) => ({ m, l: links.get(m.link), i: messages.length - i }));
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

function smsItem({ m, l }) {
  let link = h('span', { class: 'muted' }, 'link no longer exists');
  if (l) link = l.link.used_at ? h('span', { class: 'muted' }, `link used ${time(l.link.used_at)}`) : openButton(m.user, l.link.code);
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
