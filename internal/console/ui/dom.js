// Small DOM helpers: h builds elements, so no markup is ever assembled from strings (nothing a
// user ID or a scenario contains can become HTML).

export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else if (v === true) el.setAttribute(k, '');
    else el.setAttribute(k, String(v));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === undefined || c === null || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

// replace swaps el's children for the given ones, keeping focus on an element with the same
// data-key if it had it, so a live refresh does not steal the keyboard from the user.
export function replace(el, ...children) {
  const active = document.activeElement;
  const key = active && el.contains(active) ? active.dataset.key : undefined;
  el.replaceChildren();
  append(el, children);
  if (key) {
    const again = el.querySelector(`[data-key="${CSS.escape(key)}"]`);
    if (again) again.focus();
  }
}

// time formats an RFC 3339 timestamp as a local time of day with milliseconds when they matter.
export function time(iso, withDate = false) {
  const d = new Date(iso);
  if (isNaN(d)) return iso || '';
  const pad = (n, w = 2) => String(n).padStart(w, '0');
  const t = `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
  const ms = d.getMilliseconds() ? '.' + pad(d.getMilliseconds(), 3) : '';
  const date = withDate ? `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ` : '';
  return date + t + ms;
}

// short shortens a long token for display; the full value stays in the title.
export function short(s, n = 8) {
  return s && s.length > n + 1 ? s.slice(0, n) + '…' : s || '';
}

// coalesce wraps an async refresh so that calls made while one runs collapse into one more run.
export function coalesce(f) {
  let running = null;
  let again = false;
  const run = async () => {
    if (running) {
      again = true;
      return running;
    }
    running = (async () => {
      do {
        again = false;
        try {
          await f();
        } catch (err) {
          notify(err.message || String(err), true);
        }
      } while (again);
      running = null;
    })();
    return running;
  };
  return run;
}

// notify shows a sentence in the page's status line (read out by screen readers).
export function notify(message, isError = false) {
  const el = document.getElementById('notice');
  if (!el) return;
  el.textContent = message;
  el.classList.toggle('error', isError);
}

// reconcile makes container's children the rendered items, in order, reusing the element of an
// item whose signature did not change, so a live refresh leaves untouched cards alone (no
// flicker, no lost focus, no lost scroll position). keyOf names an item, sigOf says what its
// element shows.
export function reconcile(container, items, keyOf, sigOf, render) {
  const active = document.activeElement;
  const focusKey = active && container.contains(active) ? active.dataset.key : undefined;
  const cache = container.reconcileCache || new Map();
  const next = new Map();
  const els = items.map((item) => {
    const key = keyOf(item);
    const sig = sigOf(item);
    const old = cache.get(key);
    const el = old && old.sig === sig ? old.el : render(item);
    next.set(key, { sig, el });
    return el;
  });
  container.reconcileCache = next;
  const keep = new Set(els);
  for (const child of [...container.children]) if (!keep.has(child)) child.remove();
  els.forEach((el, i) => {
    if (container.children[i] !== el) container.insertBefore(el, container.children[i] || null);
  });
  if (focusKey && !container.contains(document.activeElement)) {
    const again = container.querySelector(`[data-key="${CSS.escape(focusKey)}"]`);
    if (again) again.focus();
  }
}

// attempt runs an action of the user's, says in the status line how it went (said gets the
// result) and then runs after, whatever happened.
export async function attempt(action, said, after) {
  try {
    notify(said(await action()));
  } catch (err) {
    notify(err.message, true);
  }
  if (after) after();
}

// count says a number the way the page writes them (1,506), whatever the browser's language.
const numbers = new Intl.NumberFormat('en');
export function count(n, one, many = one + 's') {
  return `${numbers.format(n)} ${n === 1 ? one : many}`;
}

// TYPING_PAUSE_MS is how long typing must pause before a search goes to the emulator, so a word
// is one search and not one per keystroke.
export const TYPING_PAUSE_MS = 250;

// afterTyping runs f once typing into input pauses.
export function afterTyping(input, f) {
  let timer = null;
  input.addEventListener('input', () => {
    clearTimeout(timer);
    timer = setTimeout(f, TYPING_PAUSE_MS);
  });
}
