'use strict';
// FedSeal registry console: live rounds, plots (uPlot, served by the registry), a version page and a log
// browser that checks the server's answers itself (Ed25519 via WebCrypto, RFC 9162 proofs via SHA-256).

async function getJson(path) {
  const r = await fetch(path, { cache: 'no-store' });
  if (!r.ok) throw new Error(path + ': HTTP ' + r.status);
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
  cells.forEach(c => {
    const td = el('td');
    if (c instanceof Node) td.appendChild(c); else td.textContent = String(c);
    tr.appendChild(td);
  });
  tbody.appendChild(tr);
  return tr;
}
function table(parent, id, headers) {
  const t = el('table', { id });
  const tr = el('tr');
  headers.forEach(h => tr.appendChild(el('th', {}, h)));
  const thead = el('thead'); thead.appendChild(tr); t.appendChild(thead);
  const tb = el('tbody'); t.appendChild(tb);
  parent.appendChild(t);
  return tb;
}
const short = h => h ? h.substring(0, 12) + '…' : '-';
const enc = encodeURIComponent;
const view = () => document.getElementById('view');
let timers = [];
function clearTimers() { timers.forEach(clearInterval); timers = []; }

// ------------------------------------------------------------------ bytes, hashes, Ed25519

const hexToBytes = h => new Uint8Array(h.match(/../g).map(b => parseInt(b, 16)));
const bytesToHex = b => Array.from(b, x => x.toString(16).padStart(2, '0')).join('');
const b64ToBytes = s => Uint8Array.from(atob(s), c => c.charCodeAt(0));
function concat(...parts) {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) { out.set(p, o); o += p.length; }
  return out;
}
async function sha256(bytes) { return new Uint8Array(await crypto.subtle.digest('SHA-256', bytes)); }
const leafHash = entry => sha256(concat(new Uint8Array([0]), entry));
const nodeHash = (l, r) => sha256(concat(new Uint8Array([1]), l, r));
const same = (a, b) => a.length === b.length && a.every((x, i) => x === b[i]);

/** Avro binary long: zig-zag, then base-128 varint. */
function avroLong(n) {
  let z = BigInt(n) >= 0n ? BigInt(n) * 2n : -BigInt(n) * 2n - 1n;
  const out = [];
  do { let b = Number(z & 0x7fn); z >>= 7n; if (z > 0n) b |= 0x80; out.push(b); } while (z > 0n);
  return new Uint8Array(out);
}
const avroBytes = b => concat(avroLong(b.length), b);

/** The message the registry signs for a tree head (fl-protocol Signatures: domain prefix + canonical Avro, signature empty). */
function treeHeadMessage(sth) {
  const prefix = new TextEncoder().encode('FedSeal-Ed25519-v1:org.fedseal.protocol.wire.SignedTreeHead\n');
  return concat(prefix, avroBytes(new TextEncoder().encode(sth.logId)), avroLong(sth.treeSize),
    avroBytes(hexToBytes(sth.rootHash)), avroLong(sth.timestampEpochMillis), avroBytes(new Uint8Array(0)));
}
async function verifyTreeHeadSignature(sth, spkiB64) {
  const key = await crypto.subtle.importKey('spki', b64ToBytes(spkiB64), { name: 'Ed25519' }, false, ['verify']);
  return crypto.subtle.verify({ name: 'Ed25519' }, key, b64ToBytes(sth.signature), treeHeadMessage(sth));
}

/** RFC 9162 section 2.1.3.2: recomputes the root from a leaf hash and its audit path. */
async function rootFromInclusion(leafIndex, treeSize, leaf, path) {
  if (leafIndex >= treeSize) throw new Error('leaf index ' + leafIndex + ' is not below tree size ' + treeSize);
  let fn = leafIndex, sn = treeSize - 1, r = leaf;
  for (const p of path) {
    if (sn === 0) throw new Error('inclusion path longer than the tree allows');
    if (fn % 2 === 1 || fn === sn) {
      r = await nodeHash(p, r);
      if (fn % 2 === 0) { while (fn % 2 === 0 && fn !== 0) { fn = Math.floor(fn / 2); sn = Math.floor(sn / 2); } }
    } else {
      r = await nodeHash(r, p);
    }
    fn = Math.floor(fn / 2); sn = Math.floor(sn / 2);
  }
  if (sn !== 0) throw new Error('inclusion path shorter than the tree needs');
  return r;
}

/** RFC 9162 section 2.1.4.2: checks that the tree (size1, root1) is a prefix of (size2, root2); throws naming what failed. */
async function verifyConsistency(size1, size2, path, root1, root2) {
  if (size1 > size2) throw new Error('the log shrank from ' + size1 + ' to ' + size2 + ' entries');
  if (size1 === size2) {
    if (path.length !== 0 || !same(root1, root2)) throw new Error('two different roots for the same size ' + size1);
    return;
  }
  if (size1 === 0) return;
  if (path.length === 0) throw new Error('empty consistency proof');
  if ((size1 & (size1 - 1)) === 0) path = [root1, ...path];
  let fn = size1 - 1, sn = size2 - 1;
  while (fn % 2 === 1) { fn = Math.floor(fn / 2); sn = Math.floor(sn / 2); }
  let fr = path[0], sr = path[0];
  for (const c of path.slice(1)) {
    if (sn === 0) throw new Error('consistency proof longer than the trees allow');
    if (fn % 2 === 1 || fn === sn) {
      fr = await nodeHash(c, fr); sr = await nodeHash(c, sr);
      if (fn % 2 === 0) { while (fn % 2 === 0 && fn !== 0) { fn = Math.floor(fn / 2); sn = Math.floor(sn / 2); } }
    } else {
      sr = await nodeHash(sr, c);
    }
    fn = Math.floor(fn / 2); sn = Math.floor(sn / 2);
  }
  if (sn !== 0) throw new Error('consistency proof shorter than the trees need');
  if (!same(fr, root1)) throw new Error('the proof does not lead to the root of size ' + size1 + ' seen before');
  if (!same(sr, root2)) throw new Error('the proof does not lead to the signed root of size ' + size2);
}

// ------------------------------------------------------------------ charts (uPlot)

function chart(parent, kind, title, xLabel, yLabel, xs, series) {
  const box = el('div', { 'class': 'chart', 'data-chart': kind, 'data-points': String(xs.length) });
  box.appendChild(el('h4', {}, title));
  parent.appendChild(box);
  if (xs.length === 0) { box.appendChild(el('p', {}, 'no data yet')); return; }
  const opts = {
    width: 400, height: 220,
    scales: { x: { time: false } },
    axes: [{ label: xLabel, values: (u, v) => v.map(x => Number.isInteger(x) ? String(x) : '') }, { label: yLabel }],
    series: [{ label: xLabel }].concat(series.map(s => ({ label: s.label, stroke: s.color, width: 2, points: { show: true, size: 7 } }))),
  };
  new uPlot(opts, [xs].concat(series.map(s => s.values)), box);
}

// ------------------------------------------------------------------ overview: live rounds, plots, rounds, versions

async function overview() {
  const v = view();
  v.replaceChildren();
  v.appendChild(el('h2', {}, 'Live rounds'));
  const live = el('div', { id: 'live' });
  v.appendChild(live);
  v.appendChild(el('h2', {}, 'Models'));
  const mt = table(v, 'models', ['Model', 'Architecture', 'HE params', 'Parameters', 'Versions', 'Latest version']);
  v.appendChild(el('h2', {}, 'Plots'));
  const plots = el('div', { id: 'plots' });
  v.appendChild(plots);
  v.appendChild(el('h2', {}, 'Rounds'));
  const rt = table(v, 'rounds', ['Model', 'Round', 'Status', 'Accepted / quorum', 'Rejected', 'Rejects by reason', 'Participants', 'Latency']);
  v.appendChild(el('h2', {}, 'Versions'));
  const vt = table(v, 'versions', ['Model', 'Version', 'Round', 'Accuracy', 'Federated accuracy', 'Publisher', 'Published']);

  const models = await getJson('/api/models');
  for (const m of models) {
    row(mt, [m.modelId, m.architecture, m.heParamsId, m.parameterCount, m.versionCount, short(m.latestVersionHash)]);
    const versions = await getJson('/api/models/' + enc(m.modelId) + '/versions');
    versions.forEach(x => {
      const a = el('a', { href: '#/version/' + x.versionHash, 'class': 'version-link' }, short(x.versionHash));
      row(vt, [m.modelId, a, x.round, pct(x.accuracy), federatedText(x.federated), x.publisherId,
        new Date(x.publishedAtEpochMillis).toISOString()]);
    });
    const rounds = await getJson('/api/models/' + enc(m.modelId) + '/rounds');
    const rejects = {};
    for (const r of rounds) {
      rejects[r.round] = r.rejectedCount > 0 ? await getJson('/api/models/' + enc(m.modelId) + '/rounds/' + r.round + '/rejects') : {};
      row(rt, [r.modelId, r.round, r.status, r.acceptedCount + ' / ' + r.quorum, r.rejectedCount, reasons(rejects[r.round]),
        r.participants.join(', ') || '-', r.latencyMillis === null ? '-' : (r.latencyMillis / 1000).toFixed(1) + ' s'], 'round ' + r.status);
    }
    const box = el('div', { 'class': 'model-plots', 'data-model': m.modelId });
    box.appendChild(el('h3', {}, m.modelId));
    const charts = el('div', { 'class': 'charts' });
    box.appendChild(charts);
    plots.appendChild(box);
    const has = a => a !== null && a !== undefined;
    const withAcc = versions.filter(x => has(x.accuracy) || (x.federated && has(x.federated.accuracy)));
    const series = [{ label: 'central accuracy (%)', color: '#36c', values: withAcc.map(x => has(x.accuracy) ? x.accuracy * 100 : null) }];
    if (withAcc.some(x => x.federated && has(x.federated.accuracy))) {
      series.push({ label: 'federated accuracy (%)', color: '#c60',
        values: withAcc.map(x => x.federated && has(x.federated.accuracy) ? x.federated.accuracy * 100 : null) });
    }
    chart(charts, 'accuracy', 'Accuracy per version: central test set, and federated on the clients\' data (version 0: before training)',
      'model version (sequence)', 'accuracy (%)', withAcc.map(x => x.sequence), series);
    const withLoss = versions.filter(x => x.federated && has(x.federated.loss));
    if (withLoss.length > 0) {
      chart(charts, 'loss', 'Federated loss per version (mean loss per example on the clients\' data)',
        'model version (sequence)', 'loss (mean per example)', withLoss.map(x => x.sequence),
        [{ label: 'federated loss', color: '#c60', values: withLoss.map(x => x.federated.loss) }]);
    }
    const done = rounds.filter(r => r.status !== 'open');
    chart(charts, 'participants', 'Participants and rejects per round', 'round', 'clients (count)', done.map(r => r.round), [
      { label: 'accepted updates', color: '#080', values: done.map(r => r.acceptedCount) },
      { label: 'rejects', color: '#c00', values: done.map(r => r.rejectedCount) }]);
    const bytes = [];
    for (const r of done) bytes.push(await getJson('/api/models/' + enc(m.modelId) + '/rounds/' + r.round + '/bytes'));
    chart(charts, 'bytes', 'Bytes per round (archived encrypted updates, aggregate)', 'round', 'size (KiB)', done.map(r => r.round), [
      { label: 'client updates (KiB)', color: '#609', values: bytes.map(b => b.updateBytes / 1024) },
      { label: 'aggregate (KiB)', color: '#088', values: bytes.map(b => b.aggregateBytes / 1024) }]);
    const timed = rounds.filter(r => r.latencyMillis !== null);
    chart(charts, 'latency', 'Round latency (open to aggregate)', 'round', 'latency (s)', timed.map(r => r.round),
      [{ label: 'latency (s)', color: '#a60', values: timed.map(r => r.latencyMillis / 1000) }]);
  }
  await refreshLive(models);
  timers.push(setInterval(() => refreshLive(null).catch(e => console.error(e)), 2000));
  timers.push(setInterval(tickDeadlines, 1000));
}

function pct(x) { return x === null || x === undefined ? '-' : (x * 100).toFixed(2) + ' %'; }

/** A version's newest federated evaluation in one cell: accuracy, loss, examples and clients. */
function federatedText(f) {
  if (!f) return '-';
  return pct(f.accuracy) + ' (loss ' + f.loss.toFixed(4) + ', ' + f.examples + ' examples, ' + f.participants.length + ' clients, round ' + f.round + ')';
}

function reasons(map) {
  const keys = Object.keys(map || {});
  return keys.length === 0 ? '-' : keys.map(k => k + ' × ' + map[k]).join(', ');
}

let liveModels = [];
let polls = 0;
/** Re-reads the open rounds (polling) and redraws the live panel in place. */
async function refreshLive(models) {
  if (models) liveModels = models.map(m => m.modelId);
  const live = document.getElementById('live');
  if (!live) return;
  const cards = [];
  for (const id of liveModels) {
    const rounds = await getJson('/api/models/' + enc(id) + '/rounds');
    for (const r of rounds.filter(x => x.status === 'open')) {
      const rej = await getJson('/api/models/' + enc(id) + '/rounds/' + r.round + '/rejects');
      const card = el('div', { 'class': 'live-round', 'data-model': id, 'data-round': String(r.round) });
      card.appendChild(el('strong', {}, id + ' round ' + r.round));
      card.appendChild(el('div', { 'class': 'accepted' }, 'accepted ' + r.acceptedCount + ' / quorum ' + r.quorum));
      card.appendChild(el('div', { 'class': 'deadline', 'data-deadline': String(r.deadlineEpochMillis) }, deadlineText(r.deadlineEpochMillis)));
      card.appendChild(el('div', { 'class': 'rejects' }, 'rejects: ' + reasons(rej)));
      cards.push(card);
    }
  }
  live.replaceChildren(...(cards.length ? cards : [el('p', {}, 'no round is open')]));
  document.body.setAttribute('data-polls', String(++polls));
}
function deadlineText(ms) {
  const s = Math.round((ms - Date.now()) / 1000);
  return s > 0 ? 'deadline in ' + Math.floor(s / 60) + ' min ' + (s % 60) + ' s' : 'deadline passed';
}
function tickDeadlines() {
  document.querySelectorAll('.deadline').forEach(d => { d.textContent = deadlineText(Number(d.getAttribute('data-deadline'))); });
}

// ------------------------------------------------------------------ version page

async function versionPage(hash) {
  const v = view();
  v.replaceChildren();
  const ver = await getJson('/api/versions/' + hash);
  v.appendChild(el('h2', { id: 'version-title' }, 'Version ' + ver.sequence + ' of ' + ver.modelId));
  const facts = table(v, 'version-facts', ['Field', 'Value']);
  [['version hash', ver.versionHash], ['round', ver.round], ['parent', ver.parentHash || '(none: initial weights)'],
    ['aggregate', ver.aggregateHash || '-'], ['accepted-update root', ver.acceptedUpdateRoot || '-'], ['weights hash', ver.weightsHash],
    ['published by', ver.publisherId], ['strategy', ver.strategy || '-'], ['accuracy', ver.accuracy === null ? '-' : (ver.accuracy * 100).toFixed(2) + ' %'],
    ['federated accuracy', federatedText(ver.federated)],
    ['published', new Date(ver.publishedAtEpochMillis).toISOString()]].forEach(f => row(facts, f));
  const dl = el('a', { id: 'download', href: '/api/versions/' + hash + '/weights', download: ver.modelId + '-v' + ver.sequence + '.f32' },
    'Download the weights (float32 little-endian)');
  v.appendChild(el('p')).appendChild(dl);

  v.appendChild(el('h3', {}, 'Lineage'));
  const lin = table(v, 'lineage', ['Sequence', 'Version', 'Round', 'Accuracy']);
  let cur = ver;
  for (let guard = 0; cur && guard < 1000; guard++) {
    row(lin, [cur.sequence, el('a', { href: '#/version/' + cur.versionHash }, short(cur.versionHash)), cur.round,
      cur.accuracy === null ? '-' : (cur.accuracy * 100).toFixed(2) + ' %']);
    cur = cur.parentHash ? await getJson('/api/versions/' + cur.parentHash) : null;
  }

  v.appendChild(el('h3', {}, 'Federated evaluations'));
  const ft = table(v, 'federated', ['Round', 'Accuracy', 'Loss', 'Examples', 'Participants', 'Aggregate']);
  (await getJson('/api/versions/' + hash + '/evaluations'))
    .forEach(f => row(ft, [f.round, pct(f.accuracy), f.loss.toFixed(4), f.examples, f.participants.join(', ') || '-', short(f.aggregateHash)]));

  v.appendChild(el('h3', {}, 'Contributors'));
  const ct = table(v, 'contributors', ['Client', 'Update', 'Weight', 'Chunks archived']);
  if (ver.round > 0) {
    (await getJson('/api/models/' + enc(ver.modelId) + '/rounds/' + ver.round + '/updates'))
      .forEach(u => row(ct, [u.clientId, short(u.updateHash), u.weight, u.archived ? 'yes' : 'no']));
  }
  v.appendChild(el('h3', {}, 'Decryption shares combined'));
  const st = table(v, 'shares', ['Key holder', 'Ceremony', 'Shares record', 'Aggregate']);
  if (ver.round > 0) {
    const shares = await getJson('/api/models/' + enc(ver.modelId) + '/rounds/' + ver.round + '/decryption-shares');
    shares.forEach(s => row(st, [s.holderId, s.ceremonyId, short(s.recordHash), short(s.aggregateHash)]));
    if (shares.length === 0) v.appendChild(el('p', {}, 'single key holder: ' + ver.publisherId + ' decrypted the aggregate alone'));
  }
}

// ------------------------------------------------------------------ log browser, verified here

const SEEN_KEY = 'fedseal.treeHead.';

async function logPage() {
  const v = view();
  v.replaceChildren();
  v.appendChild(el('h2', {}, 'Provenance log'));
  const verdict = el('div', { id: 'log-verdict', 'class': 'verdict' }, 'verifying in this browser…');
  v.appendChild(verdict);
  const sthP = el('p', { id: 'sth' });
  v.appendChild(sthP);
  const checks = el('ul', { id: 'checks' });
  v.appendChild(checks);
  const lt = table(v, 'log', ['#', 'Kind', 'Model', 'Round', 'Subject', 'Leaf hash', 'Inclusion']);
  const check = (name, ok, text) => { checks.appendChild(el('li', { 'class': ok ? 'ok' : 'bad', 'data-check': name }, (ok ? '✓ ' : '✗ ') + text)); return ok; };
  const problems = [];
  const key = await getJson('/api/log/key');
  const sth = await getJson('/api/log/sth');
  sthP.textContent = 'Signed tree head: size ' + sth.treeSize + ', root ' + sth.rootHash + ', log key ' + key.fingerprint;
  let sigOk = false;
  try { sigOk = await verifyTreeHeadSignature(sth, key.publicKey); } catch (e) { problems.push('cannot check the signature: ' + e.message); }
  if (!check('signature', sigOk, 'tree head signature (Ed25519, checked with WebCrypto against the log key)')) {
    problems.push('the signed tree head\'s signature does not verify with the log key');
  }
  const seenKey = SEEN_KEY + sth.logId;
  const seen = JSON.parse(localStorage.getItem(seenKey) || 'null');
  let consistent = true;
  if (seen) {
    try {
      const path = seen.treeSize < sth.treeSize && seen.treeSize > 0
        ? (await getJson('/api/log/consistency?first=' + seen.treeSize + '&second=' + sth.treeSize)).path.map(hexToBytes) : [];
      await verifyConsistency(seen.treeSize, sth.treeSize, path, hexToBytes(seen.rootHash), hexToBytes(sth.rootHash));
      check('consistency', true, 'consistent with the tree head of size ' + seen.treeSize + ' this browser saw before');
    } catch (e) {
      consistent = false;
      check('consistency', false, 'NOT consistent with the tree head of size ' + seen.treeSize + ' this browser saw before: ' + e.message);
      problems.push('the log is not consistent with the tree head of size ' + seen.treeSize + ' seen before (' + e.message + ')');
    }
  } else {
    check('consistency', true, 'first visit: no earlier tree head to compare (this one is remembered)');
  }
  const start = Math.max(0, sth.treeSize - 200);
  const entries = sth.treeSize === 0 ? [] : await getJson('/api/log/entries?start=' + start + '&end=' + sth.treeSize);
  const root = hexToBytes(sth.rootHash);
  let included = 0;
  for (const e of entries) {
    const leaf = await leafHash(b64ToBytes(e.entry));
    let ok = bytesToHex(leaf) === e.leafHash;
    let why = ok ? '' : 'entry bytes do not hash to the leaf hash';
    if (ok) {
      try {
        const p = await getJson('/api/log/inclusion?index=' + e.index + '&treeSize=' + sth.treeSize);
        ok = same(await rootFromInclusion(e.index, sth.treeSize, leaf, p.path.map(hexToBytes)), root);
        if (!ok) why = 'audit path leads to another root';
      } catch (x) { ok = false; why = x.message; }
    }
    if (ok) included++; else problems.push('entry ' + e.index + ': ' + why);
    const cell = el('span', { 'class': ok ? 'ok inclusion' : 'bad inclusion' }, ok ? '✓ included' : '✗ ' + why);
    row(lt, [e.index, e.kind, e.modelId, e.round, short(e.subjectHash), short(e.leafHash), cell]);
  }
  check('inclusion', included === entries.length, included + ' of ' + entries.length + ' entries shown are included in the signed tree (RFC 9162 audit paths)');
  if (problems.length === 0) {
    verdict.className = 'verdict ok';
    verdict.textContent = 'VERIFIED in this browser: signature, ' + entries.length + ' inclusion proofs' + (seen ? ', consistency with size ' + seen.treeSize : '');
    localStorage.setItem(seenKey, JSON.stringify({ treeSize: sth.treeSize, rootHash: sth.rootHash }));
  } else {
    verdict.className = 'verdict bad';
    verdict.textContent = 'DOES NOT VERIFY: the server\'s answer cannot be trusted. ' + problems.join('; ');
  }
  verdict.setAttribute('data-verified', problems.length === 0 ? 'true' : 'false');
  if (!consistent) verdict.setAttribute('data-inconsistent', 'true');
}

// ------------------------------------------------------------------ routing

async function route() {
  clearTimers();
  document.body.removeAttribute('data-loaded');
  const h = location.hash || '#/';
  const m = h.match(/^#\/version\/([0-9a-fA-F]{64})$/);
  const page = m ? versionPage(m[1]) : h === '#/log' ? logPage() : overview();
  try {
    await page;
    document.body.setAttribute('data-view', m ? 'version' : h === '#/log' ? 'log' : 'overview');
    document.body.setAttribute('data-loaded', 'true');
  } catch (e) {
    view().appendChild(el('p', { 'class': 'bad error' }, 'error: ' + e.message));
  }
}
window.addEventListener('hashchange', route);
route();
