// Runs the web page's verifiers (the "bytes, hashes, Ed25519" section of app.js, as served) against
// vectors from fl-protocol's MerkleLog and Signatures: node verify-vectors.mjs <app.js> <cases.json>.
// Prints "N passed, M failed" and exits non-zero on any failure.
import fs from 'fs';
const [appJs, casesJson] = process.argv.slice(2);
const app = fs.readFileSync(appJs, 'utf8');
const start = app.indexOf('// ------------------------------------------------------------------ bytes, hashes, Ed25519');
const end = app.indexOf('// ------------------------------------------------------------------ charts');
if (start < 0 || end < 0) { console.log('0 passed, 1 failed'); console.error('sections not found in app.js'); process.exit(1); }
const atob = s => Buffer.from(s, 'base64').toString('binary');
const lib = new Function('crypto', 'atob', app.substring(start, end)
  + '; return {rootFromInclusion, verifyConsistency, hexToBytes, bytesToHex, b64ToBytes, leafHash, same, verifyTreeHeadSignature};')(globalThis.crypto, atob);
const c = JSON.parse(fs.readFileSync(casesJson, 'utf8'));
let passed = 0, failed = 0;
const expect = (cond, what) => { if (cond) passed++; else { failed++; console.error('FAILED: ' + what); } };
for (const e of c.entries) {
  expect(lib.bytesToHex(await lib.leafHash(lib.b64ToBytes(e.entry))) === e.leafHash, 'leaf hash of entry ' + e.index);
}
for (const p of c.inclusion) {
  const root = await lib.rootFromInclusion(p.index, p.treeSize, lib.hexToBytes(p.leafHash), p.path.map(lib.hexToBytes));
  expect(lib.bytesToHex(root) === p.root, 'inclusion ' + p.index + ' in ' + p.treeSize);
  if (p.path.length > 0) {
    const forged = p.path.map(lib.hexToBytes); forged[forged.length - 1][0] ^= 1;
    const r2 = await lib.rootFromInclusion(p.index, p.treeSize, lib.hexToBytes(p.leafHash), forged);
    expect(lib.bytesToHex(r2) !== p.root, 'forged inclusion path ' + p.index + ' in ' + p.treeSize + ' rejected');
  }
}
for (const p of c.consistency) {
  let ok = true;
  try { await lib.verifyConsistency(p.size1, p.size2, p.path.map(lib.hexToBytes), lib.hexToBytes(p.root1), lib.hexToBytes(p.root2)); }
  catch (e) { ok = false; console.error(e.message); }
  expect(ok, 'consistency ' + p.size1 + ' -> ' + p.size2);
  if (p.path.length > 0) {
    const forged = p.path.map(lib.hexToBytes); forged[0] = new Uint8Array(32);
    let rejected = false;
    try { await lib.verifyConsistency(p.size1, p.size2, forged, lib.hexToBytes(p.root1), lib.hexToBytes(p.root2)); } catch (e) { rejected = true; }
    expect(rejected, 'forged consistency ' + p.size1 + ' -> ' + p.size2 + ' rejected');
  }
}
expect(await lib.verifyTreeHeadSignature(c.sth, c.publicKey), 'Ed25519 signature of the tree head');
const bad = Object.assign({}, c.sth, { treeSize: c.sth.treeSize + 1 });
expect(!(await lib.verifyTreeHeadSignature(bad, c.publicKey)), 'tree head with another size rejected');
const other = Object.assign({}, c.sth, { rootHash: '00'.repeat(32) });
expect(!(await lib.verifyTreeHeadSignature(other, c.publicKey)), 'tree head with another root rejected');
console.log(passed + ' passed, ' + failed + ' failed');
process.exit(failed === 0 ? 0 : 1);
