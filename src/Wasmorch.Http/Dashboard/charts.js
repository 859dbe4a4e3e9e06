// The dashboard's pictures, drawn by hand as SVG (docs/http.md): a line over time, a job timeline,
// a rollout's progress strip. No chart library: these three shapes are each a few dozen lines, a
// library would be ten times the dashboard and another thing to vet, and CSP stays 'self'.
// Everything shown comes in as text nodes and attributes, never as markup.
'use strict';

const SVG_NS = 'http://www.w3.org/2000/svg';

function svg(tag, attrs, ...children) {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [key, value] of Object.entries(attrs || {})) node.setAttribute(key, value);
  for (const child of children.flat()) {
    if (child !== null && child !== undefined) node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function extent(values) {
  let low = Math.min(...values), high = Math.max(...values);
  // One value (or all equal) still gets a scale: the line sits in the middle.
  if (low === high) { low -= 1; high += 1; }
  return [low, high];
}

function clock(ms) {
  return new Date(ms).toISOString().slice(11, 19);
}

function number(value) {
  return Math.abs(value) >= 1000 || Number.isInteger(value) ? String(Math.round(value)) : value.toPrecision(3);
}

// A line chart. series: [{ name, cls, points: [[x, y], …] }], x ascending (ms since the epoch
// when `time`, else a sequence number). Each series is one <path class="line"> whose points are
// the values in order ("M x,y L x,y …" in the viewBox's units): the tests read them back.
function lineChart({ series, width = 480, height = 150, unit = '', time = true, label = '' }) {
  const pad = { left: 52, right: 10, top: 10, bottom: 22 };
  const points = series.flatMap(s => s.points);
  const [x0, x1] = extent(points.map(p => p[0]));
  const [y0, y1] = extent(points.map(p => p[1]));
  const sx = x => pad.left + (x - x0) / (x1 - x0) * (width - pad.left - pad.right);
  const sy = y => height - pad.bottom - (y - y0) / (y1 - y0) * (height - pad.top - pad.bottom);
  const chart = svg('svg', { class: 'chart', viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-label': label });
  // Frame and the two y bounds: enough to read a value off the line without a grid's clutter.
  chart.append(
    svg('line', { class: 'axis', x1: pad.left, y1: sy(y1), x2: width - pad.right, y2: sy(y1) }),
    svg('line', { class: 'axis', x1: pad.left, y1: sy(y0), x2: width - pad.right, y2: sy(y0) }),
    svg('text', { class: 'tick', x: pad.left - 4, y: sy(y1) + 4, 'text-anchor': 'end' }, number(y1) + unit),
    svg('text', { class: 'tick', x: pad.left - 4, y: sy(y0) + 4, 'text-anchor': 'end' }, number(y0) + unit),
    svg('text', { class: 'tick', x: pad.left, y: height - 6 }, time ? clock(x0) : '#' + x0),
    svg('text', { class: 'tick', x: width - pad.right, y: height - 6, 'text-anchor': 'end' }, time ? clock(x1) : '#' + x1));
  for (const s of series) {
    if (s.points.length === 0) continue;
    const d = s.points.map((p, i) => (i === 0 ? 'M' : 'L') + sx(p[0]).toFixed(1) + ',' + sy(p[1]).toFixed(1)).join(' ');
    chart.append(svg('path', { class: 'line ' + (s.cls || ''), d, 'data-series': s.name }));
    // The newest point marked: on a live chart the eye looks there first.
    const last = s.points[s.points.length - 1];
    chart.append(svg('circle', { class: 'dot ' + (s.cls || ''), cx: sx(last[0]).toFixed(1), cy: sy(last[1]).toFixed(1), r: 3 },
      svg('title', {}, s.name + ': ' + number(last[1]) + unit)));
  }
  return chart;
}

// How a job's status is coloured, in the timeline, the strip's legend and the tables alike.
function outcomeClass(status) {
  if (status === 'OK' || status === 'ok') return 'ok';
  if (status === 'RUNNING' || status === 'deploying') return 'running';
  if (status === 'STOPPED' || status === 'pending') return 'stopped';
  if (status === 'rolled-back') return 'back';
  return 'bad';
}

// Recent jobs as bars on one time axis: a running job's bar reaches `now` (and grows as the page
// redraws it). jobs: newest first, as the gateway lists them.
function jobTimeline(jobs, now, width = 480) {
  // A job whose start this page did not see (its end event carries none) starts its elapsed time before its end.
  const start = j => Date.parse(j.started_at) || Date.parse(j.ended_at) - (j.elapsed_us || 0) / 1000;
  const end = j => j.ended_at ? Date.parse(j.ended_at) : j.status === 'RUNNING' ? now : start(j);
  const shown = jobs.filter(j => !Number.isNaN(start(j))).slice(0, 12).reverse();
  const row = 16, pad = { left: 64, right: 10, top: 4, bottom: 20 };
  const height = pad.top + pad.bottom + Math.max(1, shown.length) * row;
  const chart = svg('svg', { class: 'chart timeline', viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-label': 'job timeline' });
  if (shown.length === 0) return chart;
  const t0 = Math.min(...shown.map(start));
  const t1 = Math.max(now, ...shown.map(end));
  const sx = t => pad.left + (t - t0) / Math.max(1, t1 - t0) * (width - pad.left - pad.right);
  shown.forEach((j, i) => {
    const y = pad.top + i * row;
    const x = sx(start(j));
    chart.append(
      svg('text', { class: 'tick', x: pad.left - 4, y: y + row - 5, 'text-anchor': 'end' }, 'job ' + j.job),
      // At least 3 units wide: a job of a millisecond is still a mark one can point at.
      svg('rect', { class: 'bar ' + outcomeClass(j.status), x: x.toFixed(1), y: y + 2, width: Math.max(3, sx(end(j)) - x).toFixed(1), height: row - 4,
        'data-job': j.job, 'data-status': j.status },
      svg('title', {}, 'job ' + j.job + ' ' + j.module_id + '.' + j.func + ' ' + j.status + (j.elapsed_us !== undefined ? ' ' + (j.elapsed_us / 1000).toFixed(1) + ' ms' : ''))));
  });
  chart.append(
    svg('text', { class: 'tick', x: pad.left, y: height - 5 }, clock(t0)),
    svg('text', { class: 'tick', x: width - pad.right, y: height - 5, 'text-anchor': 'end' }, clock(t1)));
  return chart;
}
