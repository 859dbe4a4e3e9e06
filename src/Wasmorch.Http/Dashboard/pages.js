// The dashboard's pages (docs/http.md): each view is drawn from `state` (app.js), data as text only.
'use strict';

function stateOf(d) {
  if (d.gateway_lost) return el('span', { class: 'bad' }, 'gateway lost');
  return d.connected ? el('span', { class: 'ok' }, 'connected') : el('span', { class: 'muted' }, 'not connected');
}

// A long hash shortened (it wrapped over lines on phones and in the fleet table), whole on hover
// (its title), when clicked (copied) and when the short text is selected and copied.
function hash(value, name) {
  const node = el('code', { class: 'hash', title: name + ' ' + value + ' (click to copy)', 'data-full': value, tabindex: '0' }, value.slice(0, 12) + '…');
  node.addEventListener('copy', e => { e.clipboardData.setData('text/plain', value); e.preventDefault(); });
  node.addEventListener('click', () => {
    navigator.clipboard?.writeText(value).then(() => { node.classList.add('copied'); setTimeout(() => node.classList.remove('copied'), 1200); }, () => {});
  });
  return node;
}

function moduleList(d) {
  return (d.modules || []).map(m => el('div', { class: 'mono module', 'data-module': m.module_id },
    m.module_id, ' ', el('span', { class: 'muted nowrap' }, 'crc32=' + m.crc32), m.sha256 ? [' ', el('span', { class: 'muted nowrap' }, 'sha256=', hash(m.sha256, 'SHA-256'))] : ''));
}

function labelsOf(d) {
  return Object.entries(d.labels || {}).map(([k, v]) => k + '=' + v);
}

// A table that a narrow screen shows as one card per row, each cell under its column's name
// (app.css): a phone never scrolls sideways. Columns in `wide` are left out there.
function cardTable(attrs, headers, wide, rows) {
  for (const row of rows) Array.from(row.children).forEach((cell, i) => cell.setAttribute('data-label', headers[i]));
  return el('table', { ...attrs, class: 'cards' }, el('thead', {}, el('tr', {}, headers.map((h, i) => el('th', { class: wide.includes(i) ? 'wide' : '' }, h)))), el('tbody', {}, rows));
}

// ---- Fleet: counts by state, a label filter, a row per device.

function fleetView() {
  const labels = [...new Set(state.devices.flatMap(labelsOf))].sort();
  const filter = labels.includes(state.labelFilter) ? state.labelFilter : '';
  const shown = state.devices.filter(d => !filter || labelsOf(d).includes(filter));
  // Counted over the devices shown: a filter by gateway=… gives that gateway's counts.
  const count = (key, n, cls) => el('span', { class: 'count ' + cls, 'data-count': key }, el('b', {}, n), ' ' + key);
  const counts = el('div', { id: 'fleet-counts', class: 'counts' },
    count('connected', shown.filter(d => d.connected && !d.gateway_lost).length, 'ok'),
    count('not connected', shown.filter(d => !d.connected && !d.gateway_lost).length, 'muted'),
    count('running', shown.filter(d => state.running[d.name]).length, 'running'),
    count('lost', shown.filter(d => d.gateway_lost).length, 'bad'));
  const select = el('select', { id: 'label-filter', onchange: e => { state.labelFilter = e.target.value; render(); } },
    el('option', { value: '' }, 'every device'), labels.map(l => el('option', { value: l }, l)));
  select.value = filter;
  const rows = shown.map(d => el('tr', { 'data-device': d.name },
    el('td', {}, el('a', { href: '#/device/' + encodeURIComponent(d.name) }, d.name)),
    el('td', {}, stateOf(d)),
    el('td', { class: 'wide mono' }, d.agent || '–'),
    el('td', {}, moduleList(d)),
    el('td', {}, state.running[d.name] ? el('span', { class: 'mono' }, state.running[d.name].module_id + '.' + state.running[d.name].func + ' job=' + state.running[d.name].job) : '–'),
    el('td', { class: 'wide muted' }, d.last_seen || '–'),
    el('td', {}, el('div', {}, labelsOf(d).map(l => el('span', { class: 'label' }, l))))));
  return el('section', {}, el('h2', {}, 'Fleet ', el('span', { class: 'muted', id: 'fleet-shown' }, (filter ? shown.length + ' of ' : '') + state.devices.length + ' device(s)')),
    counts, el('form', { class: 'filter', onsubmit: e => e.preventDefault() }, el('label', {}, 'label ', select)),
    cardTable({ id: 'devices' }, ['device', 'link', 'agent', 'modules', 'running', 'last seen', 'labels'], [2, 5], rows));
}

// ---- Jobs.

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

// ---- Logs and Events: oldest at the top, newest at the bottom, both the same way. While
// "follow" is ticked the newest line stays in view; scrolling up unticks it, and lines that come
// meanwhile are added below without moving what is being read.

const KEPT_LINES = 1000;

function followToggle(key, box) {
  const toggle = el('input', { type: 'checkbox', id: key + '-follow' });
  toggle.checked = state.follow[key] !== false;
  toggle.addEventListener('change', () => { state.follow[key] = toggle.checked; if (toggle.checked) box.scrollTop = box.scrollHeight; });
  // Only the reader scrolls up: the page itself only ever scrolls to the bottom.
  box.addEventListener('scroll', () => {
    if (toggle.checked && box.scrollTop + box.clientHeight < box.scrollHeight - 8 && box.scrollTop < (box.followedTop ?? 0) - 2) {
      toggle.checked = false;
      state.follow[key] = false;
    }
  });
  return el('label', { class: 'follow' }, toggle, ' follow');
}

// Adds rows at the bottom of a scrolled box, drops the oldest beyond KEPT_LINES, and keeps the
// reader's place: the newest in view when following, else the same lines where they were.
function appendTo(box, container, nodes, follow) {
  container.append(...nodes);
  let dropped = 0;
  while (container.children.length > KEPT_LINES) {
    dropped += container.firstElementChild.getBoundingClientRect().height;
    container.firstElementChild.remove();
  }
  if (follow) {
    box.scrollTop = box.scrollHeight;
    box.followedTop = box.scrollTop;
  } else if (dropped) {
    box.scrollTop -= dropped;
  }
}

function logLine(l, withDevice) {
  return el('span', { class: 'line' }, withDevice ? [el('span', { class: 'muted' }, (l.time || '').replace('T', ' ').slice(0, 23)), ' ', l.device, ' '] : '',
    el('span', { class: 'muted' }, l.module_id || ''), ' ', l.message);
}

function logsView() {
  const box = el('pre', { class: 'logs', id: 'logs' }, state.logs.map(l => logLine(l, true)));
  const view = el('section', {}, el('div', { class: 'title' }, el('h2', {}, 'Logs'), followToggle('logs', box)), box);
  requestAnimationFrame(() => { if (state.follow.logs !== false) { box.scrollTop = box.scrollHeight; box.followedTop = box.scrollTop; } });
  return view;
}

// A log line came: added in place on the Logs page and on its device's page.
function logCame(line) {
  const box = document.getElementById('logs');
  if (box) appendTo(box, box, [logLine(line, true)], document.getElementById('logs-follow').checked);
  const deviceBox = document.getElementById('device-logs');
  if (deviceBox && deviceBox.dataset.device === line.device) {
    appendTo(deviceBox, deviceBox, [logLine(line, false)], deviceBox.scrollTop + deviceBox.clientHeight >= deviceBox.scrollHeight - 8);
  }
}

// A published payload that is a number (the thermostat's "22500"), or null.
function numericValue(e) {
  return typeof e.text === 'string' && /^\s*-?\d+(\.\d+)?\s*$/.test(e.text) ? Number(e.text) : null;
}

function eventSeries() {
  const series = new Map();
  for (const e of state.published) {
    const value = numericValue(e);
    if (value === null) continue;
    const key = e.device + '\u0000' + e.topic;
    if (!series.has(key)) series.set(key, { device: e.device, topic: e.topic, points: [] });
    series.get(key).points.push([Date.parse(e.time), value]);
  }
  return series;
}

function eventChart(s) {
  const newest = s.points[s.points.length - 1][1];
  return el('figure', { class: 'chart-box', 'data-device': s.device, 'data-topic': s.topic },
    el('figcaption', {}, el('span', {}, s.device + ' · ', el('code', {}, s.topic)), el('b', { class: 'newest' }, String(newest))),
    lineChart({ series: [{ name: s.topic, points: s.points.slice(-300) }], label: s.device + ' ' + s.topic }));
}

function eventRow(e) {
  return el('tr', { 'data-topic': e.topic, 'data-device': e.device },
    el('td', { class: 'mono muted' }, (e.time || '').replace('T', ' ').slice(0, 23)),
    el('td', {}, e.device), el('td', {}, e.module_id + ' job ' + e.job), el('td', { class: 'mono' }, e.topic),
    el('td', { class: 'mono value' }, e.text ?? (e.data ? '0x' + e.data : '(no data)')));
}

// What modules publish() (docs/peripherals.md): numbers as a line per device and topic, then every event as a row.
function eventsView() {
  const tbody = el('tbody', {}, state.published.map(eventRow));
  const box = el('div', { class: 'scroll', id: 'published-box' },
    el('table', { id: 'published' }, el('thead', {}, el('tr', {}, ['time', 'device', 'module', 'topic', 'value'].map(h => el('th', {}, h)))), tbody));
  const view = el('section', {}, el('div', { class: 'title' }, el('h2', {}, 'Events'), followToggle('events', box)),
    state.published.length === 0 ? el('p', { class: 'muted', id: 'no-events' }, 'No events yet: modules send them with publish().') : '',
    el('div', { id: 'event-charts', class: 'charts' }, [...eventSeries().values()].map(eventChart)),
    box);
  requestAnimationFrame(() => { if (state.follow.events !== false) { box.scrollTop = box.scrollHeight; box.followedTop = box.scrollTop; } });
  return view;
}

// An event came: its row is added and its series' chart drawn again, the rest of the page untouched.
function eventCame(e) {
  const box = document.getElementById('published-box');
  if (!box) return;
  document.getElementById('no-events')?.remove();
  appendTo(box, box.querySelector('tbody'), [eventRow(e)], document.getElementById('events-follow').checked);
  if (numericValue(e) === null) return;
  const s = eventSeries().get(e.device + '\u0000' + e.topic);
  const drawn = [...document.querySelectorAll('#event-charts figure')].find(f => f.dataset.device === e.device && f.dataset.topic === e.topic);
  if (drawn) drawn.replaceWith(eventChart(s)); else document.getElementById('event-charts').append(eventChart(s));
}

// ---- Rollout: a strip of every device by wave, the versions, the times, each failure's cause.

// Why a device failed, from the typed cause the gateway keeps (docs/fleet-ops.md).
function failureCause(f) {
  if (!f) return '';
  const job = f.job !== undefined && f.job !== null ? ' (job ' + f.job + ')' : '';
  const said = [f.code, f.detail].filter(Boolean).join(': ');
  switch (f.kind) {
    case 'check-value': return 'check returned ' + f.value + ', not 0' + job;
    case 'check-trap': return 'check trapped' + (f.detail ? ': ' + f.detail : '') + job;
    case 'check-timeout': return 'check timed out' + (f.detail ? ': ' + f.detail : '') + job;
    case 'check-error': return 'check failed: ' + said + job;
    case 'soak': return 'a job ended ' + (f.code || 'badly') + ' during the soak' + (f.detail ? ': ' + f.detail : '') + job;
    case 'deploy': return 'deploy failed: ' + said;
    case 'status': return 'its status could not be read: ' + said;
    case 'no-copy': return 'it holds a version no gateway kept' + (said ? ': ' + said : '');
    default: return f.kind + (said ? ': ' + said : '') + job;
  }
}

function rolloutStrip(r) {
  const waves = [];
  for (const d of r.devices || []) (waves[d.wave - 1] ||= []).push(d);
  return el('div', { id: 'rollout-strip', class: 'strip' }, waves.map((devices, i) => el('div', { class: 'wave' + (i + 1 === r.wave ? ' current' : ''), 'data-wave': i + 1 },
    el('span', { class: 'muted' }, 'wave ' + (i + 1)),
    el('div', { class: 'cells' }, (devices || []).map(d => el('span', { class: 'cell ' + outcomeClass(d.outcome), 'data-device': d.device, 'data-outcome': d.outcome,
      title: d.device + ': ' + d.outcome + (d.failure ? ' — ' + failureCause(d.failure) : '') }))))),
  el('div', { class: 'legend muted' }, [['ok', 'done'], ['bad', 'failed'], ['back', 'rolled back'], ['running', 'deploying'], ['stopped', 'pending']]
    .map(([cls, name]) => el('span', {}, el('span', { class: 'cell ' + cls }), ' ' + name))));
}

async function rolloutView() {
  const answer = await api('rollout', { action: 'status' });
  if (!answer.ok || !answer.rollout) return el('section', {}, el('h2', {}, 'Rollout'), el('p', { class: 'muted' }, 'No rollout.'));
  const r = answer.rollout;
  // The versions the devices had, by the module's history (a SHA-256 the history does not know is shown short).
  const history = await api('history', { module_id: r.module_id }, 'GET', true);
  const version = sha => { const v = (history.versions || []).find(v => v.sha256 === sha); return v ? 'v' + v.version : sha.slice(0, 12) + '…'; };
  // A pending device has not been looked at yet: what it holds is not known.
  const from = [...new Set((r.devices || []).filter(d => d.outcome !== 'pending').map(d => d.previous_sha256 ? version(d.previous_sha256) : 'none'))];
  const time = t => t ? t.replace('T', ' ').slice(0, 19) + ' UTC' : '';
  return el('section', { id: 'rollout' }, el('h2', {}, 'Rollout ' + r.id + ' of ' + r.module_id, ' ', el('span', { class: 'badge ' + r.state }, r.state)),
    el('p', { id: 'rollout-state' }, r.state + ', wave ' + r.wave + ' of ' + r.waves + ', ' + r.failures + ' failed (at most ' + r.max_failures + ')' + (r.reason ? ': ' + r.reason : '')),
    el('p', { id: 'rollout-versions', class: 'mono' }, 'version ' + (from.join(', ') || '…') + ' → ' + (r.version ? 'v' + r.version : '?'), el('span', { class: 'muted' }, ' on ' + r.selector)),
    el('p', { id: 'rollout-times', class: 'muted' }, r.started_at ? 'started ' + time(r.started_at) + (r.ended_at ? ', ended ' + time(r.ended_at) : ', not ended') : ''),
    rolloutStrip(r),
    cardTable({ id: 'rollout-devices' }, ['device', 'wave', 'outcome', 'message', 'cause'], [], (r.devices || []).map(d => el('tr', { 'data-device': d.device },
      el('td', {}, d.device), el('td', {}, 'wave ' + d.wave), el('td', { class: outcomeClass(d.outcome) }, d.outcome), el('td', { class: 'muted' }, d.message || ''),
      el('td', { class: 'cause' }, failureCause(d.failure))))));
}

// ---- A device: its head (link, STATUS, modules), actions, its latency chart, job timeline, jobs and logs.

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
  return el('table', { id: 'latency' }, el('tbody', {}, (state.latency[name] || []).slice().reverse().slice(0, 10).map(l => el('tr', { 'data-n': l.n },
    el('td', {}, l.op), el('td', { class: l.ok ? 'ok' : 'bad' }, l.ok ? 'ok' : 'failed'),
    el('td', { class: 'mono e2e' }, l.ms.toFixed(2) + ' ms'),
    el('td', { class: 'mono muted device-ms' }, l.timing && l.timing.device_ms !== undefined ? 'device ' + l.timing.device_ms.toFixed(3) + ' ms' : '')))));
}

// End to end (as this page measured it) and the device's part (as the gateway did), per command, oldest first.
function latencyChart(name) {
  const recent = state.latency[name] || [];
  const e2e = recent.map(l => [l.n, l.ms]);
  const device = recent.filter(l => l.timing && l.timing.device_ms !== undefined).map(l => [l.n, l.timing.device_ms]);
  return el('div', { id: 'latency-chart' }, recent.length === 0 ? el('p', { class: 'muted' }, 'No command yet.')
    : [lineChart({ series: [{ name: 'e2e', cls: 'e2e', points: e2e }, { name: 'device', cls: 'device', points: device }], unit: ' ms', time: false, label: 'latency of recent commands' }),
      el('div', { class: 'legend muted' }, el('span', { class: 'swatch e2e' }), ' end to end ', el('span', { class: 'swatch device' }), ' device')]);
}

function deviceJobs(name) {
  return state.jobs.filter(j => j.device === name);
}

function deviceTimeline(name) {
  return el('div', { id: 'job-timeline' }, jobTimeline(deviceJobs(name), Date.now()));
}

function deviceLogs(name) {
  const box = el('pre', { class: 'logs', id: 'device-logs', 'data-device': name }, state.logs.filter(l => l.device === name).map(l => logLine(l, false)));
  requestAnimationFrame(() => { box.scrollTop = box.scrollHeight; });
  return box;
}

// The device's modules, as the gateway last knew them (its deploys and the device's STATUS).
function modulesOf(name) {
  return (state.devices.find(d => d.name === name) || {}).modules || [];
}

// The functions a module exports, when the gateway read them from its bytes (a wasm module it
// deployed); null when it does not know them (an AOT module, one only STATUS reported).
function exportsOf(name, moduleId) {
  return modulesOf(name).find(m => m.module_id === moduleId)?.exports || null;
}

// A select of the device's modules: the forms offer what the device holds, not a blank to guess in.
function moduleSelect(name, blank) {
  const select = el('select', { name: 'module_id' }, blank ? el('option', { value: '' }, blank) : '', modulesOf(name).map(m => el('option', { value: m.module_id }, m.module_id)));
  if (!blank && modulesOf(name).length === 0) select.append(el('option', { value: '' }, '(no module)'));
  return select;
}

// The function field: the module's exports to pick from, or a text field where they are not known.
function funcField(name, moduleId, value) {
  const exports = exportsOf(name, moduleId);
  if (!exports) return el('input', { name: 'func', required: '', value: value || '' });
  const select = el('select', { name: 'func', required: '' }, exports.map(f => el('option', { value: f }, f)));
  if (exports.includes(value)) select.value = value;
  return select;
}

// After a deploy (or an unload) the selects follow the device's modules, keeping what was chosen.
function refreshActionFields(name) {
  const form = document.getElementById('start-form');
  if (!form) return;
  for (const [id, blank] of [['start-form', ''], ['stop-form', '(the running one)']]) {
    const old = document.getElementById(id).module_id;
    const fresh = moduleSelect(name, blank);
    if ([...fresh.options].some(o => o.value === old.value)) fresh.value = old.value;
    if ([...old.options].map(o => o.value).join() !== [...fresh.options].map(o => o.value).join()) {
      old.replaceWith(fresh);
    }
  }
  const func = form.func;
  // A function name typed in is the user's: it stays, whatever the gateway now knows.
  if (func.tagName === 'INPUT' && func.value) return;
  const wanted = funcField(name, form.module_id.value, func.value);
  if (wanted.tagName !== func.tagName || (wanted.tagName === 'SELECT' && [...wanted.options].map(o => o.value).join() !== [...func.options].map(o => o.value).join())) func.replaceWith(wanted);
}

// Actions reach the device through its gateway: while that gateway is lost they are off, and say why.
function refreshActionsEnabled(name, root) {
  const actions = (root || document).querySelector('#actions');
  if (!actions) return;
  const device = state.devices.find(d => d.name === name) || {};
  actions.disabled = !!device.gateway_lost;
  (root || document).querySelector('#actions-off').textContent = device.gateway_lost
    ? 'Its gateway' + (device.gateway ? ' (' + device.gateway + ')' : '') + ' is lost: actions are off until it answers again.' : '';
}

// A user's action: the outcome of the previous one is cleared first, so it never stands beside a new error.
function action(run) {
  return async e => {
    e.preventDefault();
    document.getElementById('outcome').textContent = '';
    await run(e.target);
  };
}

async function deviceView(name) {
  const head = await deviceHead(name);
  const outcome = text => { document.getElementById('outcome').textContent = text; };
  const deploy = el('form', { class: 'action', id: 'deploy-form', onsubmit: action(async form => {
    const file = form.file.files[0];
    if (!file) { showError('BAD_REQUEST: choose a .wasm or .c file to deploy'); return; }
    const body = { device: name, module_id: form.module_id.value, mode: form.mode.value || undefined };
    if (/\.(c|cc|cpp|cxx|rs|ts)$/.test(file.name)) { body.source = await file.text(); body.source_name = file.name; } else { body.module = btoa(String.fromCharCode(...new Uint8Array(await file.arrayBuffer()))); }
    const answer = await api(body.source ? 'build_and_deploy' : 'deploy', body);
    if (answer.ok) { outcome('deployed ' + body.module_id + ' version ' + (answer.version ?? '–') + ' crc32=' + answer.crc32); refreshDevices(); }
  }) }, el('label', {}, 'module id', el('input', { name: 'module_id', required: '', list: 'held-modules' })),
    el('datalist', { id: 'held-modules' }, modulesOf(name).map(m => el('option', { value: m.module_id }))),
    el('label', {}, '.wasm or .c', el('input', { name: 'file', type: 'file', accept: '.wasm,.c' })),
    el('label', {}, 'mode', el('select', { name: 'mode' }, el('option', { value: '' }, 'wasm'), el('option', { value: 'aot' }, 'aot'))), el('button', { type: 'submit' }, 'Deploy'));
  const startModule = moduleSelect(name, '');
  const start = el('form', { class: 'action', id: 'start-form', onsubmit: action(async form => {
    const answer = await api('start', { device: name, module_id: form.module_id.value, func: form.func.value, args: form.args.value || undefined, wait_result: form.wait.checked });
    if (answer.ok) outcome('job ' + answer.job + ' ' + answer.status + (answer.value !== undefined ? ' value=' + answer.value : ''));
  }) }, el('label', {}, 'module', startModule), el('label', {}, 'function', funcField(name, startModule.value)),
    el('label', {}, 'args', el('input', { name: 'args', placeholder: 'a=10,b=15' })), el('label', {}, 'wait', el('input', { name: 'wait', type: 'checkbox' })),
    el('button', { type: 'submit' }, 'Start'));
  // Another module chosen: its exports are offered.
  start.addEventListener('change', e => { if (e.target.name === 'module_id') start.func.replaceWith(funcField(name, e.target.value, start.func.value)); });
  const stop = el('form', { class: 'action', id: 'stop-form', onsubmit: action(async form => {
    const answer = await api('stop', { device: name, module_id: form.module_id.value || undefined });
    if (answer.ok) outcome('stop: ' + answer.status);
  }) }, el('label', {}, 'module', moduleSelect(name, '(the running one)')), el('button', { type: 'submit' }, 'Stop'));
  const view = el('section', { id: 'device' }, head,
    el('h3', {}, 'Actions'), el('p', { id: 'actions-off', class: 'bad' }), el('fieldset', { id: 'actions' }, deploy, start, stop), el('p', { id: 'outcome', class: 'mono' }),
    el('div', { class: 'charts' },
      el('figure', { class: 'chart-box' }, el('figcaption', {}, 'Latency of recent commands'), latencyChart(name)),
      el('figure', { class: 'chart-box' }, el('figcaption', {}, 'Job timeline'), deviceTimeline(name))),
    el('h3', {}, 'Recent commands'), latencyTable(name),
    el('h3', {}, 'Jobs'), jobsTable(deviceJobs(name), 'device-jobs'),
    el('h3', {}, 'Logs'), deviceLogs(name));
  refreshActionsEnabled(name, view);
  return view;
}

// On a device page, jobs, latencies and the charts are replaced in place as they come: the forms keep what is typed in them.
function liveDeviceParts() {
  const route = location.hash.replace(/^#/, '');
  if (!route.startsWith('/device/')) return;
  const name = decodeURIComponent(route.slice('/device/'.length));
  document.getElementById('device-jobs')?.replaceWith(jobsTable(deviceJobs(name), 'device-jobs'));
  document.getElementById('latency')?.replaceWith(latencyTable(name));
  document.getElementById('latency-chart')?.replaceWith(latencyChart(name));
  document.getElementById('job-timeline')?.replaceWith(deviceTimeline(name));
  document.getElementById('held-modules')?.replaceChildren(...modulesOf(name).map(m => el('option', { value: m.module_id })));
  refreshActionFields(name);
  refreshActionsEnabled(name);
}
