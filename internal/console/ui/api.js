// The control API, as the CLI and tests use it: every call is a fetch of /_acmock/..., with the
// control token when the emulator asks for one, and every error body turned into a sentence.

const TOKEN_KEY = 'acmock.controlToken';

export function token() {
  return sessionStorage.getItem(TOKEN_KEY) || '';
}

export function setToken(value) {
  if (value) sessionStorage.setItem(TOKEN_KEY, value);
  else sessionStorage.removeItem(TOKEN_KEY);
}

function headers(extra) {
  const h = { Accept: 'application/json', ...extra };
  const t = token();
  if (t) h.Authorization = 'Bearer ' + t;
  return h;
}

// ApiError carries the emulator's JSON error: status, code, field, message (and problems for a
// scenario).
export class ApiError extends Error {
  constructor(status, body) {
    const where = body && body.field ? ` (${body.field})` : '';
    super(((body && body.message) || `HTTP ${status}`) + where);
    this.status = status;
    this.body = body || {};
  }
}

const listeners = new Set();
// onUnauthorized registers f to run when a call answers 401 (no token, or a wrong one).
export function onUnauthorized(f) {
  listeners.add(f);
}

// call sends one request and returns the decoded JSON body, or throws ApiError.
export async function call(method, path, body, contentType = 'application/json') {
  const init = { method, headers: headers(), cache: 'no-store' };
  if (body !== undefined) {
    init.body = typeof body === 'string' ? body : JSON.stringify(body);
    init.headers['Content-Type'] = contentType;
  }
  const res = await fetch(path, init);
  let data = null;
  if ((res.headers.get('Content-Type') || '').startsWith('application/json')) {
    data = await res.json();
  }
  if (res.status === 401) listeners.forEach((f) => f(data));
  if (!res.ok) throw new ApiError(res.status, data);
  return data;
}

export const get = (path) => call('GET', path);
export const post = (path, body) => call('POST', path, body === undefined ? {} : body);

// query builds ?a=b&c=d from the non-empty values of params; an array value repeats its name
// (user=a&user=b).
export function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    for (const one of Array.isArray(v) ? v : [v]) {
      if (one !== undefined && one !== null && one !== '') q.append(k, String(one));
    }
  }
  const s = q.toString();
  return s ? '?' + s : '';
}

// PAGE is the most items the control API answers in one page.
const PAGE = 1000;

// collect reads a paged list of the control API (GET /_acmock/users or /_acmock/sessions) page
// after page, following next_cursor, until it holds want items or the list is over; items picks
// a page's items. A page can be short, or empty, and still have a next page (a filter that
// matches few sessions stops looking after 10,000), so one page is never taken for the whole.
// more says whether the list may go on past the items returned.
export async function collect(path, params, items, want) {
  const out = [];
  let cursor;
  for (;;) {
    const page = await get(path + query({ ...params, cursor, limit: Math.min(PAGE, want - out.length) }));
    out.push(...items(page));
    cursor = page.next_cursor;
    if (!cursor || out.length >= want) return { items: out, more: !!cursor };
  }
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// follow reads GET /_acmock/events (server-sent events) and calls onChange(event, fresh) for each
// change event; fresh is true for the first event of a connection, after which everything must be
// read again (the emulator may have restarted). A fetch stream rather than EventSource, so the
// control token travels in a header and not in the URL. It reconnects, backing off to 5 s, until
// stop() is called; onState gets 'live', 'reconnecting' or 'unauthorized'.
export function follow(onChange, onState) {
  let stopped = false;
  let controller = null;
  (async () => {
    let delay = 250;
    while (!stopped) {
      controller = new AbortController();
      try {
        const res = await fetch('/_acmock/events', {
          headers: headers({ Accept: 'text/event-stream' }),
          cache: 'no-store',
          signal: controller.signal,
        });
        if (res.status === 401) {
          onState('unauthorized');
          listeners.forEach((f) => f(null));
          return;
        }
        if (!res.ok || !res.body) throw new Error(`events: HTTP ${res.status}`);
        const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
        let buf = '';
        let fresh = true;
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buf += value.replace(/\r\n?/g, '\n');
          let end;
          while ((end = buf.indexOf('\n\n')) >= 0) {
            const block = buf.slice(0, end);
            buf = buf.slice(end + 2);
            const ev = parseEvent(block);
            if (ev && ev.event === 'change') {
              if (fresh) onState('live');
              delay = 250;
              onChange(JSON.parse(ev.data), fresh);
              fresh = false;
            }
          }
        }
      } catch (err) {
        if (stopped) return;
      }
      onState('reconnecting');
      await sleep(delay);
      delay = Math.min(delay * 2, 5000);
    }
  })();
  return () => {
    stopped = true;
    if (controller) controller.abort();
  };
}

function parseEvent(block) {
  const ev = { event: 'message', data: '' };
  let seen = false;
  for (const line of block.split('\n')) {
    if (line === '' || line.startsWith(':')) continue;
    const i = line.indexOf(':');
    const field = i < 0 ? line : line.slice(0, i);
    const value = i < 0 ? '' : line.slice(i + 1).replace(/^ /, '');
    if (field === 'event') ev.event = value;
    else if (field === 'data') ev.data += (ev.data ? '\n' : '') + value;
    else continue;
    seen = true;
  }
  return seen ? ev : null;
}
