// Stand-in for the gateway (and, with MOCK_SURFACES, for the lean reference), used ONLY to test the
// harness itself (bash loadtest/run.sh --selftest).
// Implements the parts of the contract run.sh relies on:
//   GET  /health/ready, /health/live          -> 200
//   POST /admin/surfaces (Bearer token)       -> 201 {"id","name","secret"}
//   POST /v1/conversions (signed, +-5 min)    -> 200 {"status":"unattributed","duplicate":false,...}
//   POST /admin/affiliates (Bearer token)     -> 201 {"id","name","status",...}
//   POST /admin/links (Bearer token)          -> 201 {"code","surfaceId","affiliateId","destinationUrl","trackingUrl"}
//   GET  /c/:code                             -> 302, Location: destination + clickId=<id>; 404 unknown code
// Accepted postbacks are written to table `conversions`, clicks to table `clicks` of GATEWAY_PG_URL
// through a psql child (COPY per batch); the 200 / 302 is sent only once its batch is committed, like
// the real service.
// MOCK_LOSE_EVERY=k answers 200 / 302 but drops every k-th conversion row and every k-th click row
// (to prove the count checks can FAIL). MOCK_CLICK_UNRECORDED_EVERY=k redirects every k-th click to
// the bare destination without a clickId and without a row (the real gateway's degraded mode when
// Postgres cannot take a click). MOCK_DELAY_MS=n answers new postbacks n ms after their commit (a slow
// gateway, to prove that a missed target fails an enforced run).
'use strict';
const http = require('http');
const crypto = require('crypto');
const { spawn } = require('child_process');

const port = Number(process.env.GATEWAY_HTTP_PORT || 8089);
const token = process.env.GATEWAY_ADMIN_TOKEN || 'bench-admin-token';
const pgUrl = process.env.GATEWAY_PG_URL || 'postgresql://postgres@127.0.0.1:5432/gateway_bench';
const loseEvery = Number(process.env.MOCK_LOSE_EVERY || 0);
const unrecordedEvery = Number(process.env.MOCK_CLICK_UNRECORDED_EVERY || 0);
const delayMs = Number(process.env.MOCK_DELAY_MS || 0);

const surfaces = new Map(); // id -> secret
// MOCK_SURFACES="id:secret,..." pre-registers surfaces (the lean reference's fixed s1 when the mock
// stands in for it)
for (const kv of (process.env.MOCK_SURFACES || '').split(',').filter(Boolean)) {
  const i = kv.indexOf(':');
  surfaces.set(kv.slice(0, i), kv.slice(i + 1));
}
const seen = new Map();     // externalId -> conversionId
const affiliates = new Map(); // id -> { id, name, status }
const links = new Map();    // code -> { code, surfaceId, affiliateId, destinationUrl }
let accepted = 0;
let clicks = 0;
let batch = [];             // conversions: { surfaceId, externalId, res, row, payload }
let clickBatch = [];        // clicks: { id, link, sub1, res, row, location }
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
    for (const e of entries) {
      if (e.location) redirect(e.res, e.location);
      else if (delayMs > 0) setTimeout(() => send(e.res, 200, e.payload), delayMs);
      else send(e.res, 200, e.payload);
    }
  }
});
psql.stdin.write('CREATE TABLE IF NOT EXISTS conversions (id bigserial primary key, surface_id text not null,'
  + ' external_id text not null, created_at timestamptz default now(), unique (surface_id, external_id));\n'
  + 'CREATE TABLE IF NOT EXISTS clicks (id text primary key, link_code text not null, surface_id text not null,'
  + ' affiliate_id text not null, clicked_at timestamptz not null default now(), sub1 text);\n'
  + '\\echo SCHEMA\n');

// COPY text format: backslash, tab, newline and carriage return escaped; null as \N
const copyField = (v) => (v == null ? '\\N' : String(v).replace(/[\\\t\n\r]/g,
  (c) => ({ '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' })[c]));

setInterval(() => {
  if (batch.length === 0 && clickBatch.length === 0) return;
  const no = ++batchNo;
  const entries = batch.concat(clickBatch);
  let copy = '';
  if (batch.length > 0) {
    copy += 'COPY conversions (surface_id, external_id) FROM STDIN;\n';
    for (const e of batch) {
      if (e.row) copy += `${e.surfaceId}\t${e.externalId}\n`;
    }
    copy += '\\.\n';
  }
  if (clickBatch.length > 0) {
    copy += 'COPY clicks (id, link_code, surface_id, affiliate_id, sub1) FROM STDIN;\n';
    for (const e of clickBatch) {
      if (e.row) copy += [e.id, e.link.code, e.link.surfaceId, e.link.affiliateId, e.sub1].map(copyField).join('\t') + '\n';
    }
    copy += '\\.\n';
  }
  batch = [];
  clickBatch = [];
  inflight.set(no, entries);
  psql.stdin.write(copy + '\\echo BATCH ' + no + '\n');
}, 5);

function send(res, status, obj) {
  const body = JSON.stringify(obj);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

function redirect(res, location) {
  res.writeHead(302, { location, 'cache-control': 'no-store', 'content-length': 0 });
  res.end();
}

function html(res, status, text) {
  const body = `<!doctype html><title>${text}</title><h1>${text}</h1>`;
  res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

function adminBody(req, res, raw) {
  if (req.headers.authorization !== 'Bearer ' + token) { send(res, 401, { error: 'unauthorized' }); return null; }
  try {
    const json = JSON.parse(raw.toString('utf8'));
    if (json && typeof json === 'object') return json;
  } catch (e) { /* answered below */ }
  send(res, 400, { error: 'bad json' });
  return null;
}

// Appends clickId=<id> to the URL's query, keeping an existing query and fragment (as the gateway).
function withClickId(url, clickId) {
  const hash = url.indexOf('#');
  const base = hash < 0 ? url : url.slice(0, hash);
  const fragment = hash < 0 ? '' : url.slice(hash);
  const sep = base.indexOf('?') < 0 ? '?' : (base.endsWith('?') || base.endsWith('&')) ? '' : '&';
  return base + sep + 'clickId=' + clickId + fragment;
}

function click(req, res, code, query) {
  const link = links.get(code);
  if (!link) return html(res, 404, 'Link not found');
  const n = ++clicks;
  if (unrecordedEvery > 0 && n % unrecordedEvery === 0) return redirect(res, link.destinationUrl);
  const id = 'ck_' + n.toString(36) + crypto.randomBytes(6).toString('hex');
  let sub1 = new URLSearchParams(query).get('sub1');
  if (sub1 != null) sub1 = sub1.slice(0, 512) || null;
  const row = !(loseEvery > 0 && n % loseEvery === 0);
  clickBatch.push({ id, link, sub1, res, row, location: withClickId(link.destinationUrl, id) });
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
    const q = req.url.indexOf('?');
    const url = q < 0 ? req.url : req.url.slice(0, q);
    const query = q < 0 ? '' : req.url.slice(q + 1);
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
    if (req.method === 'GET' && url.startsWith('/c/')) {
      let code;
      try { code = decodeURIComponent(url.slice(3)); } catch (e) { return html(res, 404, 'Link not found'); }
      return click(req, res, code, query);
    }
    if (req.method === 'POST' && url === '/admin/affiliates') {
      const body = adminBody(req, res, raw);
      if (!body) return undefined;
      if (typeof body.name !== 'string' || body.name === '') return send(res, 400, { error: 'name' });
      const status = body.status == null ? 'pending' : body.status;
      if (!['pending', 'active', 'suspended'].includes(status)) return send(res, 400, { error: 'status' });
      const id = 'aff_' + crypto.randomBytes(8).toString('hex');
      affiliates.set(id, { id, name: body.name, status });
      return send(res, 201, { id, name: body.name, status, createdAt: new Date().toISOString() });
    }
    if (req.method === 'POST' && url === '/admin/links') {
      const body = adminBody(req, res, raw);
      if (!body) return undefined;
      if (!surfaces.has(body.surfaceId)) return send(res, 400, { error: 'surfaceId' });
      if (!affiliates.has(body.affiliateId)) return send(res, 400, { error: 'affiliateId' });
      if (typeof body.destinationUrl !== 'string' || !/^https?:\/\/[^/?#]+/i.test(body.destinationUrl)) {
        return send(res, 400, { error: 'destinationUrl' });
      }
      let code;
      do { code = crypto.randomBytes(6).toString('base64url').slice(0, 6); } while (links.has(code));
      const link = { code, surfaceId: body.surfaceId, affiliateId: body.affiliateId, destinationUrl: body.destinationUrl };
      links.set(code, link);
      return send(res, 201, { ...link, promoCode: null, trackingUrl: `http://${req.headers.host}/c/${code}` });
    }
    send(res, 404, { error: 'not found' });
  });
}).listen(port, '127.0.0.1', () => console.error(`mock gateway on 127.0.0.1:${port} (pg ${pgUrl})`));

process.on('SIGTERM', () => { console.error(`mock: SIGTERM, accepted=${accepted}, clicks=${clicks}`); psql.stdin.end(); setTimeout(() => process.exit(0), 200); });
