// The Scenario view: the loaded scenario's name and description, and an editor to paste or upload
// YAML, validate it (POST /_acmock/scenario/validate) and load it (PUT /_acmock/scenario), with
// each problem at its line:col. Reset goes back to the loaded scenario's initial state.
import { ApiError, call, get, post } from './api.js';
import { attempt, coalesce, h, notify, replace } from './dom.js';

let root;
let editor;
let problemsEl;
let loaded = null; // GET /_acmock/scenario; its source holds secrets, shown only when asked

function init(el) {
  root = el;
  editor = el.querySelector('#scenario-yaml');
  problemsEl = el.querySelector('#scenario-problems');
  el.querySelector('#scenario-validate').addEventListener('click', () => send(false));
  el.querySelector('#scenario-load').addEventListener('click', () => send(true));
  el.querySelector('#scenario-reset').addEventListener('click', reset);
  el.querySelector('#scenario-edit-loaded').addEventListener('click', () => {
    if (loaded) editor.value = loaded.source;
    showProblems(null);
    editor.focus();
  });
  el.querySelector('#scenario-file').addEventListener('change', async (e) => {
    const file = e.target.files[0];
    if (!file) return;
    editor.value = await file.text();
    e.target.value = '';
    send(false);
  });
}

function plural(n, word) {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

function summary(info) {
  return `${plural(info.applications, 'application')}, ${plural(info.faults, 'fault')}, ${plural(info.expectations, 'expectation')}`;
}

async function send(load) {
  const yaml = editor.value;
  if (!yaml.trim()) {
    notify('Paste or upload a scenario first.', true);
    return;
  }
  try {
    const info = load
      ? await call('PUT', '/_acmock/scenario', yaml, 'application/yaml')
      : await call('POST', '/_acmock/scenario/validate', yaml, 'application/yaml');
    showProblems([]);
    notify(load ? `Loaded scenario ${info.name} (${summary(info)}) and reset to it` : `Scenario ${info.name} is valid: ${summary(info)}`);
  } catch (err) {
    if (err instanceof ApiError && err.body.problems) {
      showProblems(err.body.problems);
      notify(`${err.body.message}`, true);
    } else {
      notify(err.message, true);
    }
  }
}

function showProblems(problems) {
  if (!problems) {
    problemsEl.hidden = true;
    return;
  }
  problemsEl.hidden = false;
  const list = problemsEl.querySelector('ul');
  if (!problems.length) {
    replace(list, h('li', { class: 'ok' }, 'No problems.'));
    return;
  }
  // In the order of the file, as an editor lists them (the checker finds them in its own order).
  const inOrder = problems.slice().sort((a, b) => (a.line - b.line) || (a.column - b.column));
  replace(list, inOrder.map((p) => h('li', {},
    h('button', { type: 'button', class: 'link mono', title: 'Go to this place in the editor', onclick: () => goTo(p.line, p.column) },
      `${p.line}:${p.column}`),
    `: ${p.message}`)));
}

// goTo puts the editor's cursor at line:col (both from 1).
function goTo(line, col) {
  const lines = editor.value.split('\n');
  let at = 0;
  for (let i = 0; i < Math.min(line - 1, lines.length); i++) at += lines[i].length + 1;
  at += Math.max(0, col - 1);
  editor.focus();
  editor.setSelectionRange(at, at + 1);
}

function reset() {
  return attempt(() => post('/_acmock/reset'),
    () => `Reset to the initial state of scenario ${loaded ? loaded.name : ''}`.trim());
}

const refreshNow = coalesce(async () => {
  loaded = await get('/_acmock/scenario');
  root.querySelector('#scenario-loaded-name').textContent = loaded.name;
  root.querySelector('#scenario-loaded-description').textContent = loaded.description || 'No description.';
  root.querySelector('#scenario-loaded-counts').textContent = summary(loaded);
});

function refresh(what) {
  if (what.control) refreshNow();
}

export default { id: 'scenario', init, refresh };
