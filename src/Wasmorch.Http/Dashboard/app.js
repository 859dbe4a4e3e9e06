// The Wasmorch dashboard: the gateway's own HTTP API (docs/http.md), no framework, no network but the gateway.
'use strict';

const state = { token: localStorage.getItem('wasmorch-token') || '', devices: [], running: {}, jobs: [], logs: [], published: [], latency: {}, follow: {}, commands: 0, source: null };

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (key === 'class') node.className = value; else if (key.startsWith('on')) node.addEventListener(key.slice(2), value); else node.setAttribute(key, value);
  }
  for (const child of children.flat()) {
    if (child !== null && child !== undefined) node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function showError(message) {
  const box = document.getElementById('error');
  box.textContent = message;
  box.hidden = !message;
}

// Every call goes through the host API; an error is shown as the gateway said it, never a stack trace.
// A read the page makes by itself (`background`) leaves an error on show: only the user's next action clears it.
async function api(op, body, method, background) {
  const headers = { 'Content-Type': 'application/json' };
  if (state.token) headers.Authorization = 'Bearer ' + state.token;
  const started = performance.now();
  let response;
  try {
    response = method === 'GET'
      ? await fetch('/api/' + op + (body ? '?' + new URLSearchParams(body) : ''), { headers })
      : await fetch('/api/' + op, { method: 'POST', headers, body: JSON.stringify(body || {}) });
  } catch (e) {
    showError('The gateway cannot be reached: ' + e.message);
    throw e;
  }
  const answer = await response.json().catch(() => ({ ok: false, error: { code: 'PROTOCOL_ERROR', message: 'the gateway answered ' + response.status + ' without JSON' } }));
  // The gateway wants a token (or another one): the sign-in view, not an error over an empty page.
  if (response.status === 401) {
    signIn(state.token ? 'The gateway refused the token this page had: it may have been changed.' : '');
    return answer;
  }
  // The user's commands (not the page's own reads), oldest first and numbered: the latency chart's x axis.
  // Keyed by the device asked: a fleet's answer for another gateway's device is still this device's.
  const device = body?.device || answer.device;
  if (device && !background) {
    const recent = state.latency[device] ||= [];
    recent.push({ n: ++state.commands, op, ms: performance.now() - started, ok: answer.ok, timing: answer.timing });
    recent.splice(0, Math.max(0, recent.length - 20));
    // Drawn now: the events the command caused may have come before its answer.
    liveDeviceParts();
  }
  if (!answer.ok) {
    const error = answer.error || {};
    showError((error.code || 'ERROR') + ': ' + (error.message || 'the request failed'));
  } else if (!background) {
    showError('');
  }
  return answer;
}

function live() {
  if (state.source) state.source.close();
  const source = new EventSource('/api/events/stream' + (state.token ? '?token=' + encodeURIComponent(state.token) : ''));
  state.source = source;
  source.onopen = () => { document.getElementById('live').textContent = 'live'; document.getElementById('live').className = 'ok'; };
  source.onerror = () => {
    document.getElementById('live').textContent = 'reconnecting…';
    document.getElementById('live').className = 'bad';
    // An EventSource does not say why it failed: a read tells a refused token (the sign-in view) from a gateway away.
    api('devices', null, 'GET', true).catch(() => {});
  };
  source.addEventListener('job', e => {
    const job = JSON.parse(e.data).jobs[0];
    if (job.status === 'RUNNING') state.running[job.device] = job; else delete state.running[job.device];
    const known = state.jobs.findIndex(j => j.device === job.device && j.job === job.job);
    // A job's end event carries no start (nor, from some agents, its module): what is known is kept.
    const given = Object.fromEntries(Object.entries(job).filter(([, v]) => v !== '' && v !== null && v !== undefined));
    if (known >= 0) state.jobs[known] = { ...state.jobs[known], ...given }; else state.jobs.unshift(job);
    render();
    liveDeviceParts();
  });
  // A rollout's steps can come fast: its page is read again at most four times a second.
  source.addEventListener('rollout', () => {
    if (location.hash !== '#/rollout' || state.rolloutPending) return;
    state.rolloutPending = setTimeout(() => { state.rolloutPending = null; render(); }, 250);
  });
  source.addEventListener('module', () => refreshDevices());
  source.addEventListener('device', () => refreshDevices());
}

async function refreshDevices() {
  const answer = await api('devices', null, 'GET', true);
  if (answer.ok) { state.devices = answer.devices || []; render(); }
}

// In a fleet no event says that another gateway went away (its devices are found lost when the
// devices are read): they are read again every 5 s, so the page marks them and turns their actions off.
setInterval(() => {
  if (!document.body.classList.contains('signed-out') && state.devices.some(d => d.gateway)) refreshDevices().catch(() => {});
}, 5000);

let rendering = 0;
async function render() {
  if (document.body.classList.contains('signed-out')) return;
  const mine = ++rendering;
  const route = location.hash.replace(/^#/, '') || '/';
  for (const id of ['fleet', 'jobs', 'logs', 'events', 'rollout']) document.getElementById('nav-' + id).classList.toggle('active', route === '/' + (id === 'fleet' ? '' : id));
  // Logs and Events are drawn once, then grow line by line (logCame, eventCame): a redraw on
  // some other event would lose the reader's place in the scrollback.
  if ((route === '/logs' || route === '/events') && state.drawn === route && !state.navigated) return;
  let view;
  if (route.startsWith('/device/')) {
    // A device page is drawn on navigation only; a change of the device (link, modules, jobs)
    // replaces its live parts in place, so its forms keep what is being typed in them.
    const name = decodeURIComponent(route.slice('/device/'.length));
    if (state.drawn === route && !state.navigated) {
      liveDeviceParts();
      // Events can come fast (a job a millisecond): STATUS is asked again at most five times a second.
      if (!state.headPending) {
        state.headPending = setTimeout(async () => {
          const head = await deviceHead(name);
          state.headPending = null;
          if (state.drawn === route && location.hash.replace(/^#/, '') === route) document.getElementById('device-head')?.replaceWith(head);
        }, 200);
      }
      return;
    }
    view = await deviceView(name);
  } else if (route === '/jobs') view = jobsView();
  else if (route === '/logs') view = logsView();
  else if (route === '/events') view = eventsView();
  else if (route === '/rollout') view = await rolloutView();
  else view = fleetView();
  if (mine !== rendering || document.body.classList.contains('signed-out')) return;
  state.drawn = route;
  state.navigated = false;
  document.getElementById('view').replaceChildren(view);
}

async function loadJobsAndLogs() {
  const jobs = await api('jobs', { limit: 200 }, 'GET');
  if (jobs.ok) {
    state.jobs = jobs.jobs || [];
    for (const j of state.jobs) if (j.status === 'RUNNING') state.running[j.device] = j;
  }
  const logs = state.logSource = new EventSource('/api/logs/stream' + (state.token ? '?token=' + encodeURIComponent(state.token) : ''));
  logs.addEventListener('logs', e => { state.logs = JSON.parse(e.data).logs || []; if (location.hash === '#/logs') { state.navigated = true; render(); } });
  // One line more: added in place (a redraw would lose the reader's place in the scrollback).
  logs.addEventListener('log', e => { const line = JSON.parse(e.data).log; state.logs.push(line); state.logs.splice(0, Math.max(0, state.logs.length - KEPT_LINES)); logCame(line); });
  const published = state.publishedSource = new EventSource('/api/published/stream' + (state.token ? '?token=' + encodeURIComponent(state.token) : ''));
  published.addEventListener('events', e => { state.published = JSON.parse(e.data).events || []; if (location.hash === '#/events') { state.navigated = true; render(); } });
  published.addEventListener('published', e => { const event = JSON.parse(e.data).published; state.published.push(event); state.published.splice(0, Math.max(0, state.published.length - KEPT_LINES)); eventCame(event); });
}

// First visit, a refused token, or a sign-out: the page shows only a sign-in form, and holds no stream.
function signIn(message) {
  stopStreams();
  document.body.classList.add('signed-out');
  document.getElementById('sign-out').hidden = true;
  showError('');
  if (document.getElementById('sign-in')) {
    document.getElementById('sign-in-message').textContent = message;
    return;
  }
  const form = el('form', { id: 'token-form', onsubmit: async e => {
    e.preventDefault();
    const token = document.getElementById('token').value;
    if (!token) return;
    state.token = token;
    // Tried before it is kept: a wrong token is said here, and is not remembered.
    const answer = await api('devices', null, 'GET', true);
    if (answer.ok) {
      localStorage.setItem('wasmorch-token', token);
      start(answer);
    } else if (answer.error?.code === 'UNAUTHORIZED') {
      state.token = '';
      document.getElementById('sign-in-message').textContent = 'The gateway refused this token.';
    }
  } },
  el('label', {}, 'Token', el('input', { id: 'token', type: 'password', autocomplete: 'current-password', required: '' })),
  el('button', { type: 'submit' }, 'Sign in'));
  document.getElementById('view').replaceChildren(el('section', { id: 'sign-in' },
    el('h2', {}, 'Sign in'),
    el('p', {}, 'This gateway needs its token: the ', el('code', {}, 'token'), ' of its ', el('code', {}, '[gateway]'), ' configuration, or ', el('code', {}, 'WASMORCH_TOKEN'), ' where it runs.'),
    form,
    el('p', { id: 'sign-in-message', class: 'bad', role: 'alert' }, message),
    el('p', { class: 'muted' }, 'The token is kept in this browser until you sign out.')));
  document.getElementById('token').focus();
}

function signOut() {
  localStorage.removeItem('wasmorch-token');
  state.token = '';
  Object.assign(state, { devices: [], running: {}, jobs: [], logs: [], published: [], latency: {} });
  signIn('');
}

function stopStreams() {
  for (const key of ['source', 'logSource', 'publishedSource']) {
    state[key]?.close();
    state[key] = null;
  }
}

document.getElementById('sign-out').addEventListener('click', signOut);
// A running job's bar grows: the device page's timeline is drawn again each second while one runs.
setInterval(() => {
  const route = location.hash.replace(/^#/, '');
  if (route.startsWith('/device/') && state.running[decodeURIComponent(route.slice('/device/'.length))]) liveDeviceParts();
}, 1000);
window.addEventListener('hashchange', () => { state.navigated = true; if (!document.body.classList.contains('signed-out')) render(); });

// The first read decides: the gateway needs a token (the sign-in view) or the page starts.
async function start(devices) {
  let answer;
  try {
    answer = devices || await api('devices', null, 'GET', true);
  } catch {
    setTimeout(() => start(), 2000);
    return;
  }
  if (!answer.ok) {
    if (answer.error?.code !== 'UNAUTHORIZED') setTimeout(() => start(), 2000);
    return;
  }
  document.body.classList.remove('signed-out');
  document.getElementById('sign-out').hidden = !state.token;
  state.devices = answer.devices || [];
  state.navigated = true;
  live();
  await loadJobsAndLogs();
  render();
}
start();
