'use strict';
async function getJson(path) {
  const r = await fetch(path);
  if (!r.ok) throw new Error(path + ': ' + r.status);
  return r.json();
}
function el(tag, attrs, text) {
  const e = document.createElement(tag);
  for (const k in (attrs || {})) e.setAttribute(k, attrs[k]);
  if (text !== undefined) e.textContent = text;
  return e;
}
function row(tbody, cells, cls) {
  const tr = el('tr', cls ? { 'class': cls } : {});
  cells.forEach(c => tr.appendChild(el('td', {}, String(c))));
  tbody.appendChild(tr);
  return tr;
}
const short = h => h ? h.substring(0, 12) + '…' : '-';
const SVG = 'http://www.w3.org/2000/svg';
function plot(model, versions) {
  const pts = versions.filter(v => v.accuracy !== null && v.accuracy !== undefined);
  const box = el('div', { 'class': 'plot' });
  box.appendChild(el('h3', {}, model));
  if (pts.length === 0) { box.appendChild(el('p', {}, 'no accuracy reported')); return box; }
  const W = 420, H = 180, P = 30;
  const svg = document.createElementNS(SVG, 'svg');
  svg.setAttribute('width', W); svg.setAttribute('height', H); svg.setAttribute('data-model', model);
  const maxSeq = Math.max(1, ...pts.map(p => p.sequence));
  const x = s => P + (W - 2 * P) * s / maxSeq, y = a => H - P - (H - 2 * P) * a;
  const axis = document.createElementNS(SVG, 'path');
  axis.setAttribute('d', `M${P} ${P} L${P} ${H - P} L${W - P} ${H - P}`); axis.setAttribute('stroke', '#888'); axis.setAttribute('fill', 'none');
  svg.appendChild(axis);
  const line = document.createElementNS(SVG, 'polyline');
  line.setAttribute('points', pts.map(p => x(p.sequence) + ',' + y(p.accuracy)).join(' '));
  line.setAttribute('fill', 'none'); line.setAttribute('stroke', '#36c');
  svg.appendChild(line);
  pts.forEach(p => {
    const c = document.createElementNS(SVG, 'circle');
    c.setAttribute('cx', x(p.sequence)); c.setAttribute('cy', y(p.accuracy)); c.setAttribute('r', 4);
    c.setAttribute('class', 'point'); c.setAttribute('fill', '#36c');
    const t = document.createElementNS(SVG, 'title'); t.textContent = 'v' + p.sequence + ': ' + p.accuracy;
    c.appendChild(t); svg.appendChild(c);
  });
  box.appendChild(svg);
  return box;
}
async function load() {
  const models = await getJson('/api/models');
  const mt = document.querySelector('#models tbody'), rt = document.querySelector('#rounds tbody');
  const plots = document.getElementById('plots');
  for (const m of models) {
    row(mt, [m.modelId, m.architecture, m.heParamsId, m.parameterCount, m.versionCount, short(m.latestVersionHash)]);
    const rounds = await getJson('/api/models/' + encodeURIComponent(m.modelId) + '/rounds');
    for (const r of rounds) {
      row(rt, [r.modelId, r.round, r.status, r.acceptedCount + ' / ' + r.quorum, r.rejectedCount,
        r.participants.join(', ') || '-', r.latencyMillis === null ? '-' : r.latencyMillis + ' ms'], 'round ' + r.status);
    }
    plots.appendChild(plot(m.modelId, await getJson('/api/models/' + encodeURIComponent(m.modelId) + '/versions')));
  }
  const sth = await getJson('/api/log/sth');
  document.getElementById('sth').textContent = 'Signed tree head: size ' + sth.treeSize + ', root ' + sth.rootHash;
  const entries = await getJson('/api/log/entries?start=0&end=' + sth.treeSize);
  const lt = document.querySelector('#log tbody');
  entries.forEach(e => row(lt, [e.index, e.kind, e.modelId, e.round, short(e.subjectHash), short(e.leafHash)]));
}
document.getElementById('verify').addEventListener('click', async () => {
  const out = document.getElementById('verify-result');
  try {
    const v = await getJson('/api/log/verify');
    out.textContent = (v.ok ? 'VERIFIED: ' : 'FAILED: ') + v.message;
    out.className = v.ok ? 'ok' : 'bad';
  } catch (e) { out.textContent = 'error: ' + e.message; out.className = 'bad'; }
});
load().then(() => document.body.setAttribute('data-loaded', 'true'))
      .catch(e => { document.body.appendChild(el('p', { 'class': 'error' }, 'error: ' + e.message)); });
