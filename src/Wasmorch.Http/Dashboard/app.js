// The Wasmorch dashboard: the gateway's own HTTP API (docs/http.md), no framework, no network but the gateway.
'use strict';

const state = { token: localStorage.getItem('wasmorch-token') || '', devices: [], running: {}, jobs: [], logs: [], published: [], latency: {}, source: null };

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
  if (response.status === 401) {
    document.getElementById('token-form').hidden = false;
  }
  if (answer.device) {
    (state.latency[answer.device] ||= []).unshift({ op, ms: performance.now() - started, ok: answer.ok, timing: answer.timing });
    state.latency[answer.device].length = Math.min(state.latency[answer.device].length, 10);
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
  source.onerror = () => { document.getElementById('live').textContent = 'reconnecting…'; document.getElementById('live').className = 'bad'; };
  source.addEventListener('job', e => {
    const job = JSON.parse(e.data).jobs[0];
    if (job.status === 'RUNNING') state.running[job.device] = job; else delete state.running[job.device];
    const known = state.jobs.findIndex(j => j.device === job.device && j.job === job.job);
    if (known >= 0) state.jobs[known] = { ...state.jobs[known], ...job }; else state.jobs.unshift(job);
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

function stateOf(d) {
  if (d.gateway_lost) return el('span', { class: 'bad' }, 'gateway lost');
  return d.connected ? el('span', { class: 'ok' }, 'connected') : el('span', { class: 'muted' }, 'not connected');
}

function moduleList(d) {
  return (d.modules || []).map(m => el('div', { class: 'mono', 'data-module': m.module_id },
    m.module_id, ' ', el('span', { class: 'muted' }, 'crc32=' + m.crc32 + (m.sha256 ? ' sha256=' + m.sha256.slice(0, 12) + '…' : ''))));
}

function fleetView() {
  const rows = state.devices.map(d => el('tr', { 'data-device': d.name },
    el('td', {}, el('a', { href: '#/device/' + encodeURIComponent(d.name) }, d.name)),
    el('td', {}, stateOf(d)),
    el('td', { class: 'wide mono' }, d.agent || '–'),
    el('td', {}, moduleList(d)),
    el('td', {}, state.running[d.name] ? el('span', { class: 'mono' }, state.running[d.name].module_id + '.' + state.running[d.name].func + ' job=' + state.running[d.name].job) : '–'),
    el('td', { class: 'wide muted' }, d.last_seen || '–'),
    el('td', {}, el('div', {}, Object.entries(d.labels || {}).map(([k, v]) => el('span', { class: 'label' }, k + '=' + v))))));
  return el('section', {}, el('h2', {}, 'Fleet ', el('span', { class: 'muted' }, state.devices.length + ' device(s)')),
    cardTable({ id: 'devices' }, ['device', 'link', 'agent', 'modules', 'running', 'last seen', 'labels'], [2, 5], rows));
}

// A table that a narrow screen shows as one card per row, each cell under its column's name
// (app.css): a phone never scrolls sideways. Columns in `wide` are left out there.
function cardTable(attrs, headers, wide, rows) {
  for (const row of rows) Array.from(row.children).forEach((cell, i) => cell.setAttribute('data-label', headers[i]));
  return el('table', { ...attrs, class: 'cards' }, el('thead', {}, el('tr', {}, headers.map((h, i) => el('th', { class: wide.includes(i) ? 'wide' : '' }, h)))), el('tbody', {}, rows));
}

function jobRows(jobs) {
  return jobs.map(j => el('tr', { 'data-job': j.device + '/' + j.job },
    el('td', {}, j.device), el('td', { class: 'mono' }, j.job), el('td', { class: 'mono' }, j.module_id + '.' + j.func + '(' + (j.args || '') + ')'),
    el('td', { class: j.status === 'OK' ? 'ok' : j.status === 'RUNNING' ? '' : 'bad' }, j.status), el('td', { class: 'mono' }, j.value ?? ''),
    el('td', { class: 'wide muted' }, j.started_at || j.ended_at || '')));
}

function jobsTable(jobs, id) {
  return cardTable({ id: id || 'jobs' }, ['device', 'job', 'call', 'status', 'value', 'started'], [5], jobRows(jobs));
}

function jobsView() {
  const filter = state.jobFilter || { device: '', module: '', status: '' };
  const shown = state.jobs.filter(j => (!filter.device || j.device === filter.device) && (!filter.module || j.module_id === filter.module) && (!filter.status || j.status === filter.status));
  const input = (name, label) => el('label', {}, label, el('input', { name, value: filter[name], oninput: e => { state.jobFilter = { ...filter, [name]: e.target.value }; render(); } }));
  return el('section', {}, el('h2', {}, 'Jobs'), el('form', { class: 'action', onsubmit: e => e.preventDefault() }, input('device', 'device'), input('module', 'module'), input('status', 'status')), jobsTable(shown));
}

function logsView() {
  return el('section', {}, el('h2', {}, 'Logs'), el('pre', { class: 'logs', id: 'logs' }, state.logs.map(l => (l.time || '') + ' ' + l.device + ' ' + (l.module_id || '') + ' ' + l.message + '\n')));
}

// What modules publish() (docs/peripherals.md), newest first: text when printable, else hex.
function eventsView() {
  return el('section', {}, el('h2', {}, 'Events'),
    state.published.length === 0 ? el('p', { class: 'muted' }, 'No events yet: modules send them with publish().') : '',
    el('table', { id: 'published' }, el('tbody', {}, state.published.slice().reverse().map(e =>
      el('tr', { 'data-topic': e.topic, 'data-device': e.device },
        el('td', { class: 'mono muted' }, (e.time || '').replace('T', ' ').slice(0, 23)),
        el('td', {}, e.device), el('td', {}, e.module_id + ' job ' + e.job), el('td', { class: 'mono' }, e.topic),
        el('td', { class: 'mono value' }, e.text ?? (e.data ? '0x' + e.data : '(no data)')))))));
}

async function rolloutView() {
  const answer = await api('rollout', { action: 'status' });
  if (!answer.ok || !answer.rollout) return el('section', {}, el('h2', {}, 'Rollout'), el('p', { class: 'muted' }, 'No rollout.'));
  const r = answer.rollout;
  return el('section', { id: 'rollout' }, el('h2', {}, 'Rollout ' + r.id + ' of ' + r.module_id),
    el('p', { id: 'rollout-state' }, r.state + ', wave ' + r.wave + ' of ' + r.waves + ', ' + r.failures + ' failed (at most ' + r.max_failures + ')' + (r.reason ? ': ' + r.reason : '')),
    el('table', {}, el('tbody', {}, (r.devices || []).map(d => el('tr', { 'data-device': d.device }, el('td', {}, d.device), el('td', {}, 'wave ' + d.wave), el('td', { class: d.outcome === 'ok' ? 'ok' : d.outcome === 'failed' ? 'bad' : '' }, d.outcome), el('td', { class: 'muted' }, d.message || ''))))));
}

// The parts of a device page that follow the device: its link, live STATUS and modules.
async function deviceHead(name) {
  const status = await api('status', { device: name }, 'GET', true);
  const device = state.devices.find(d => d.name === name) || { name };
  const agent = status.agent || {};
  return el('div', { id: 'device-head' }, el('h2', {}, name, ' ', stateOf(device)),
    el('p', { class: 'mono', id: 'status' }, status.ok ? 'state=' + status.status + ' module=' + (status.module_id || '-') + ' job=' + (status.job ?? '-') + ' modules=' + (agent.modules || '-') + ' gpio=' + (agent.gpio || '-') + ' uptime_ms=' + (agent.uptime_ms || '-') : 'unreachable'),
    el('div', {}, moduleList(device)));
}

function latencyTable(name) {
  return el('table', { id: 'latency' }, el('tbody', {}, (state.latency[name] || []).map(l => el('tr', {}, el('td', {}, l.op), el('td', { class: l.ok ? 'ok' : 'bad' }, l.ok ? 'ok' : 'failed'), el('td', { class: 'mono' }, l.ms.toFixed(1) + ' ms'), el('td', { class: 'mono muted' }, l.timing && l.timing.device_ms !== undefined ? 'device ' + l.timing.device_ms.toFixed(2) + ' ms' : '')))));
}

async function deviceView(name) {
  const head = await deviceHead(name);
  const deploy = el('form', { class: 'action', id: 'deploy-form', onsubmit: async e => {
    e.preventDefault();
    const form = e.target;
    const file = form.file.files[0];
    if (!file) { showError('BAD_REQUEST: choose a .wasm or .c file to deploy'); return; }
    const body = { device: name, module_id: form.module_id.value, mode: form.mode.value || undefined };
    if (/\.(c|cc|cpp|cxx|rs|ts)$/.test(file.name)) { body.source = await file.text(); body.source_name = file.name; } else { body.module = btoa(String.fromCharCode(...new Uint8Array(await file.arrayBuffer()))); }
    const answer = await api(body.source ? 'build_and_deploy' : 'deploy', body);
    if (answer.ok) { document.getElementById('outcome').textContent = 'deployed ' + body.module_id + ' version ' + (answer.version ?? '–') + ' crc32=' + answer.crc32; refreshDevices(); }
  } }, el('label', {}, 'module id', el('input', { name: 'module_id', required: '' })), el('label', {}, '.wasm or .c', el('input', { name: 'file', type: 'file', accept: '.wasm,.c' })),
    el('label', {}, 'mode', el('select', { name: 'mode' }, el('option', { value: '' }, 'wasm'), el('option', { value: 'aot' }, 'aot'))), el('button', { type: 'submit' }, 'Deploy'));
  const start = el('form', { class: 'action', id: 'start-form', onsubmit: async e => {
    e.preventDefault();
    const form = e.target;
    const answer = await api('start', { device: name, module_id: form.module_id.value, func: form.func.value, args: form.args.value || undefined, wait_result: form.wait.checked });
    if (answer.ok) document.getElementById('outcome').textContent = 'job ' + answer.job + ' ' + answer.status + (answer.value !== undefined ? ' value=' + answer.value : '');
  } }, el('label', {}, 'module id', el('input', { name: 'module_id', required: '' })), el('label', {}, 'function', el('input', { name: 'func', required: '' })),
    el('label', {}, 'args', el('input', { name: 'args', placeholder: 'a=10,b=15' })), el('label', {}, 'wait', el('input', { name: 'wait', type: 'checkbox' })),
    el('button', { type: 'submit' }, 'Start'));
  const stop = el('form', { class: 'action', id: 'stop-form', onsubmit: async e => {
    e.preventDefault();
    const answer = await api('stop', { device: name, module_id: e.target.module_id.value || undefined });
    if (answer.ok) document.getElementById('outcome').textContent = 'stop: ' + answer.status;
  } }, el('label', {}, 'module id', el('input', { name: 'module_id' })), el('button', { type: 'submit' }, 'Stop'));
  return el('section', { id: 'device' }, head,
    el('h3', {}, 'Actions'), deploy, start, stop, el('p', { id: 'outcome', class: 'mono' }),
    el('h3', {}, 'Recent commands'), latencyTable(name),
    el('h3', {}, 'Jobs'), jobsTable(state.jobs.filter(j => j.device === name), 'device-jobs'),
    el('h3', {}, 'Logs'), deviceLogs(name));
}

function deviceLogs(name) {
  return el('pre', { class: 'logs', id: 'device-logs' }, state.logs.filter(l => l.device === name).map(l => (l.module_id || '') + ' ' + l.message + '\n'));
}

// On a device page, jobs, log lines and latencies are replaced in place as they come: the forms keep what is typed in them.
function liveDeviceParts() {
  const route = location.hash.replace(/^#/, '');
  if (!route.startsWith('/device/')) return;
  const name = decodeURIComponent(route.slice('/device/'.length));
  document.getElementById('device-jobs')?.replaceWith(jobsTable(state.jobs.filter(j => j.device === name), 'device-jobs'));
  document.getElementById('device-logs')?.replaceWith(deviceLogs(name));
  document.getElementById('latency')?.replaceWith(latencyTable(name));
}

let rendering = 0;
async function render() {
  const mine = ++rendering;
  const route = location.hash.replace(/^#/, '') || '/';
  for (const id of ['fleet', 'jobs', 'logs', 'events', 'rollout']) document.getElementById('nav-' + id).classList.toggle('active', route === '/' + (id === 'fleet' ? '' : id));
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
  if (mine !== rendering) return;
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
  const logs = new EventSource('/api/logs/stream' + (state.token ? '?token=' + encodeURIComponent(state.token) : ''));
  logs.addEventListener('logs', e => { state.logs = JSON.parse(e.data).logs || []; if (location.hash === '#/logs') render(); });
  logs.addEventListener('log', e => { state.logs.push(JSON.parse(e.data).log); state.logs.splice(0, Math.max(0, state.logs.length - 1000)); if (location.hash === '#/logs') render(); liveDeviceParts(); });
  const published = new EventSource('/api/published/stream' + (state.token ? '?token=' + encodeURIComponent(state.token) : ''));
  published.addEventListener('events', e => { state.published = JSON.parse(e.data).events || []; if (location.hash === '#/events') render(); });
  published.addEventListener('published', e => { state.published.push(JSON.parse(e.data).published); state.published.splice(0, Math.max(0, state.published.length - 1000)); if (location.hash === '#/events') render(); });
}

document.getElementById('token-form').addEventListener('submit', e => {
  e.preventDefault();
  state.token = document.getElementById('token').value;
  localStorage.setItem('wasmorch-token', state.token);
  document.getElementById('token-form').hidden = true;
  start();
});
window.addEventListener('hashchange', () => { state.navigated = true; render(); });

async function start() {
  live();
  await refreshDevices();
  await loadJobsAndLogs();
  render();
}
start();
