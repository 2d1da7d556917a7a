// Stand-in for the gateway, used ONLY to test the harness itself (loadtest/selftest.sh).
// Implements the parts of the contract run.sh relies on:
//   GET  /health/ready, /health/live          -> 200
//   POST /admin/surfaces (Bearer token)       -> 201 {"id","name","secret"}
//   POST /v1/conversions (signed, +-5 min)    -> 200 {"status":"unattributed","duplicate":false,...}
// Accepted postbacks are written to table `conversions` of GATEWAY_PG_URL through a psql child
// (COPY per batch); a 200 is sent only once its batch is committed, like the real service.
// MOCK_LOSE_EVERY=k answers 200 but drops every k-th row (to prove the count check can FAIL).
'use strict';
const http = require('http');
const crypto = require('crypto');
const { spawn } = require('child_process');

const port = Number(process.env.GATEWAY_HTTP_PORT || 8089);
const token = process.env.GATEWAY_ADMIN_TOKEN || 'bench-admin-token';
const pgUrl = process.env.GATEWAY_PG_URL || 'postgresql://postgres@127.0.0.1:5432/gateway_bench';
const loseEvery = Number(process.env.MOCK_LOSE_EVERY || 0);

const surfaces = new Map(); // id -> secret
const seen = new Map();     // externalId -> conversionId
let accepted = 0;
let batch = [];             // { surfaceId, externalId, res, payload }
const inflight = new Map(); // batch no -> entries
let batchNo = 0;
let ready = false;

const psql = spawn('psql', ['-X', '-q', '-v', 'ON_ERROR_STOP=1', pgUrl], { stdio: ['pipe', 'pipe', 'inherit'] });
psql.on('exit', (code) => { console.error(`mock: psql exited ${code}`); process.exit(1); });
let outBuf = '';
psql.stdout.on('data', (chunk) => {
  outBuf += chunk;
  let nl;
  while ((nl = outBuf.indexOf('\n')) >= 0) {
    const line = outBuf.slice(0, nl).trim();
    outBuf = outBuf.slice(nl + 1);
    if (line === 'SCHEMA') { ready = true; continue; }
    const m = /^BATCH (\d+)$/.exec(line);
    if (!m) continue;
    const entries = inflight.get(Number(m[1])) || [];
    inflight.delete(Number(m[1]));
    for (const e of entries) send(e.res, 200, e.payload);
  }
});
psql.stdin.write('CREATE TABLE IF NOT EXISTS conversions (id bigserial primary key, surface_id text not null,'
  + ' external_id text not null, created_at timestamptz default now(), unique (surface_id, external_id));\n'
  + '\\echo SCHEMA\n');

setInterval(() => {
  if (batch.length === 0) return;
  const no = ++batchNo;
  const entries = batch;
  batch = [];
  inflight.set(no, entries);
  let copy = 'COPY conversions (surface_id, external_id) FROM STDIN;\n';
  for (const e of entries) {
    if (e.row) copy += `${e.surfaceId}\t${e.externalId}\n`;
  }
  psql.stdin.write(copy + '\\.\n\\echo BATCH ' + no + '\n');
}, 5);

function send(res, status, obj) {
  const body = JSON.stringify(obj);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

function conversion(req, res, raw) {
  const surfaceId = req.headers['x-ea-surface'];
  const ts = req.headers['x-ea-timestamp'];
  const sig = req.headers['x-ea-signature'];
  const secret = surfaces.get(surfaceId);
  if (!secret || !ts || !sig) return send(res, 401, { error: 'unauthenticated' });
  if (!/^\d+$/.test(ts) || Math.abs(Date.now() - Number(ts)) > 300000) return send(res, 401, { error: 'stale timestamp' });
  const mac = crypto.createHmac('sha256', Buffer.from(secret, 'utf8'));
  mac.update(ts + '.');
  mac.update(raw);
  const expected = Buffer.from(mac.digest('hex'));
  const got = Buffer.from(String(sig));
  if (got.length !== expected.length || !crypto.timingSafeEqual(got, expected)) return send(res, 401, { error: 'bad signature' });
  let json;
  try { json = JSON.parse(raw.toString('utf8')); } catch (e) { return send(res, 400, { error: 'bad json' }); }
  const externalId = json.externalId;
  if (typeof externalId !== 'string' || !/^[A-Za-z0-9._-]{1,128}$/.test(externalId)) return send(res, 400, { error: 'externalId' });
  const key = surfaceId + '\u0000' + externalId;
  if (seen.has(key)) return send(res, 200, { status: 'unattributed', duplicate: true, conversionId: seen.get(key) });
  const conversionId = 'cnv_' + (++accepted);
  seen.set(key, conversionId);
  const row = !(loseEvery > 0 && accepted % loseEvery === 0);
  batch.push({ surfaceId, externalId, res, row, payload: { status: 'unattributed', duplicate: false, conversionId } });
}

http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const raw = Buffer.concat(chunks);
    const url = req.url.split('?')[0];
    if (req.method === 'GET' && (url === '/health/ready' || url === '/health/live')) {
      return ready ? send(res, 200, { status: 'UP' }) : send(res, 503, { status: 'DOWN' });
    }
    if (req.method === 'POST' && url === '/admin/surfaces') {
      if (req.headers.authorization !== 'Bearer ' + token) return send(res, 401, { error: 'unauthorized' });
      const id = 'srf_' + crypto.randomBytes(8).toString('hex');
      const secret = crypto.randomBytes(24).toString('base64url');
      surfaces.set(id, secret);
      let name = 'bench';
      try { name = JSON.parse(raw.toString('utf8')).name || name; } catch (e) { /* keep default */ }
      return send(res, 201, { id, name, secret, createdAt: new Date().toISOString() });
    }
    if (req.method === 'POST' && url === '/v1/conversions') return conversion(req, res, raw);
    send(res, 404, { error: 'not found' });
  });
}).listen(port, '127.0.0.1', () => console.error(`mock gateway on 127.0.0.1:${port} (pg ${pgUrl})`));

process.on('SIGTERM', () => { console.error(`mock: SIGTERM, accepted=${accepted}`); psql.stdin.end(); setTimeout(() => process.exit(0), 200); });
