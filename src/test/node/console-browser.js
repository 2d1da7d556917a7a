// Drives the operator console and the integrator portal in Debian's Chromium (playwright-core), against a
// running gateway that ConsoleBrowserTest started on real Postgres and Redis. Input: one JSON file (argv[2]).
// Prints "ok - <step>" per step; exits 1 with the failing step and its error. Screenshots go to input.shots.
'use strict';
const { chromium } = require('playwright-core');
const crypto = require('crypto');
const fs = require('fs');
const path = require('path');

const input = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const { base, adminToken, surface, secret, endpointId, otherEndpointId, otherEndpointUrl, endpointUrl, trackerUrl, shots } = input;
fs.mkdirSync(shots, { recursive: true });

async function postback(externalId, signingSecret = secret) {
  const ts = String(Date.now());
  const body = JSON.stringify({ externalId, eventType: 'sale', grossMinor: 4999, currency: 'USD' });
  const sig = crypto.createHmac('sha256', signingSecret).update(ts + '.' + body).digest('hex');
  const res = await fetch(base + '/v1/conversions', {
    method: 'POST', body,
    headers: { 'content-type': 'application/json', 'x-ea-surface': surface, 'x-ea-timestamp': ts, 'x-ea-signature': sig },
  });
  return res.status;
}

async function shot(page, name) {
  await page.screenshot({ path: path.join(shots, name + '.png'), fullPage: true });
}

function assert(cond, message) {
  if (!cond) throw new Error(message);
}

(async () => {
  const browser = await chromium.launch({ executablePath: input.chromium, args: ['--no-sandbox'] });
  const problems = [];
  // 400 answers a step provokes on purpose (an invalid form), each expected once.
  let expected400 = 0;
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const watch = (page) => {
    page.on('console', (m) => {
      if (m.type() === 'error' && /Failed to load resource: the server responded with a status of 400/.test(m.text())
          && expected400 > 0) {
        expected400--;
        return;
      }
      if (m.type() === 'error' && !/Failed to load resource: the server responded with a status of (401|404)/.test(m.text())) {
        problems.push(m.text());
      }
    });
    page.on('pageerror', (e) => problems.push('page error: ' + e.message));
  };
  const page = await context.newPage();
  watch(page);
  // Mints a portal link with the scope given and opens it in a browser context of its own (a separate
  // integrator); answers the link, its page (on its endpoint list) and the context to close.
  const openPortal = async (scope) => {
    const res = await fetch(base + '/admin/portal-links', {
      method: 'POST',
      headers: { authorization: 'Bearer ' + adminToken, 'content-type': 'application/json' },
      body: JSON.stringify({ ...scope, ttlSeconds: 3600 }),
    });
    assert(res.status === 201, 'minting a portal link answered ' + res.status);
    const link = await res.json();
    const portalContext = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const p = await portalContext.newPage();
    watch(p);
    await p.goto(link.url);
    await p.getByRole('heading', { name: 'Webhook endpoints' }).waitFor();
    return { link, p, portalContext };
  };
  let step = 'start';
  const run = async (name, fn) => {
    step = name;
    await fn();
    console.log('ok - ' + name);
  };
  try {
    await run('the console answers with a strict content security policy and no framing', async () => {
      const res = await page.goto(base + '/console/');
      const csp = res.headers()['content-security-policy'] ?? '';
      assert(/default-src 'self'/.test(csp) && !/unsafe-inline/.test(csp), 'CSP is ' + csp);
      assert(res.headers()['x-frame-options'] === 'DENY', 'X-Frame-Options is ' + res.headers()['x-frame-options']);
    });

    await run('sign in with the admin token, by keyboard', async () => {
      await page.getByLabel('Admin token').waitFor();
      await shot(page, 'console-sign-in');
      await page.getByLabel('Admin token').fill('wrong-token');
      await page.keyboard.press('Enter');
      await page.getByRole('alert').filter({ hasText: 'not accepted' }).waitFor();
      await page.getByLabel('Admin token').fill(adminToken);
      await page.keyboard.press('Enter');
      await page.locator('#stat-accepted').waitFor();
      assert(!page.url().includes(adminToken), 'the token is in the URL');
      const stored = await page.evaluate(() => sessionStorage.getItem('postback-gateway.admin-token'));
      assert(stored === adminToken, 'the token is not in session storage');
    });

    await run('the overview numbers change after postbacks are fired', async () => {
      const before = Number(await page.locator('#stat-accepted').textContent());
      for (let i = 0; i < 3; i++) assert(await postback('browser-ok-' + Date.now() + '-' + i) === 200, 'postback refused');
      await page.waitForFunction((n) => Number(document.getElementById('stat-accepted').textContent) >= n + 3, before, { timeout: 20000 });
      await page.getByText('this instance').first().waitFor();
      await page.locator('.chart').first().waitFor();
      await shot(page, 'console-overview');
    });

    await run('the pages are reachable by keyboard: a skip link first, then the navigation', async () => {
      await page.evaluate(() => document.activeElement?.blur());
      await page.keyboard.press('Tab');
      assert(await page.evaluate(() => document.activeElement.id) === 'skip', 'the first Tab stop is not the skip link');
      for (let i = 0; i < 10 && (await page.evaluate(() => document.activeElement.textContent)) !== 'Postback log'; i++) {
        await page.keyboard.press('Tab');
      }
      await page.keyboard.press('Enter');
      await page.getByRole('heading', { name: 'Postback log' }).waitFor();
    });

    await run('a refused postback and its reason are in the log', async () => {
      assert(await postback('browser-bad-sig', 'pbs_not_the_secret') === 401, 'a bad signature was not refused');
      await page.getByLabel('Surface id').fill(surface);
      await page.getByLabel('Outcome').selectOption('rejected');
      await page.getByRole('button', { name: 'Show' }).click();
      const entry = page.locator('#log-entries details').filter({ hasText: 'bad_signature' }).first();
      await entry.waitFor({ timeout: 15000 });
      await entry.locator('summary').click();
      await entry.getByText('The signature does not match').waitFor();
      const accepted = await page.locator('#log-entries .outcome-accepted').count();
      assert(accepted === 0, 'the rejected filter shows accepted entries');
      await shot(page, 'console-postback-log');
      await page.getByLabel('Outcome').selectOption('accepted');
      await page.locator('#log-entries .outcome-accepted').first().waitFor();
      assert(await page.locator('#log-entries .outcome-rejected').count() === 0, 'the accepted filter shows rejected entries');
    });

    await run('a failing endpoint shows its attempts', async () => {
      await page.getByRole('link', { name: 'Webhook endpoints' }).click();
      await page.getByRole('link', { name: endpointUrl }).click();
      await page.getByRole('heading', { name: 'Attempt log' }).waitFor();
      const attempts = page.locator('section[aria-labelledby="attempts-h"] tbody tr');
      await attempts.first().waitFor();
      assert(await attempts.filter({ hasText: '500' }).count() >= 1, 'no attempt answered 500');
      await shot(page, 'console-endpoint');
    });

    await run('a dead letter replayed from the console succeeds at the receiver', async () => {
      const dead = page.locator('section[aria-labelledby="deliveries-h"] tbody tr').first();
      await dead.waitFor();
      const deliveryId = (await dead.locator('code').first().textContent()).trim();
      await dead.getByRole('button', { name: /Replay/ }).click();
      await page.getByText(`Delivery ${deliveryId} replayed.`).waitFor();
      const deadline = Date.now() + 20000;
      for (;;) {
        await page.getByLabel('Show').selectOption('succeeded');
        await page.getByText('Deliveries: succeeded').or(page.getByText('No succeeded deliveries.')).waitFor();
        const row = page.locator('section[aria-labelledby="deliveries-h"] tbody tr').filter({ hasText: deliveryId });
        if (await row.count() > 0) break;
        assert(Date.now() < deadline, 'the replayed delivery did not succeed');
        await page.getByLabel('Show').selectOption('dead');
        await page.waitForTimeout(500);
      }
      console.log('replayed ' + deliveryId);
      await shot(page, 'console-endpoint-replayed');
    });

    await run('an endpoint can be sent a test event, have its secret rotated, be disabled and enabled', async () => {
      await page.getByRole('button', { name: 'Send test event' }).click();
      await page.getByText(/^Test event evt_\S+ queued as delivery dlv_/).waitFor();
      page.once('dialog', (d) => d.accept());
      await page.getByRole('button', { name: 'Rotate secret' }).click();
      await page.locator('.secret code').filter({ hasText: /^whsec_/ }).waitFor();
      await page.getByRole('button', { name: 'Disable' }).click();
      await page.getByText('disabled: disabled by an operator').waitFor();
      await shot(page, 'console-endpoint-disabled');
      await page.getByRole('button', { name: 'Enable' }).click();
      await page.getByRole('button', { name: 'Disable' }).waitFor();
    });

    await run('conversions are found by surface, and by conversion id', async () => {
      await page.getByRole('link', { name: 'Conversions' }).click();
      await page.getByLabel('Surface id').fill(surface);
      await page.getByRole('button', { name: 'Find' }).click();
      await page.locator('article.card').first().waitFor();
      await shot(page, 'console-conversions');
      const id = (await page.locator('article.card dd').first().textContent()).trim();
      assert(id.startsWith('cv_'), 'no conversion id shown: ' + id);
      await page.getByLabel('Surface id').fill('');
      await page.getByLabel('Or conversion id').fill(id);
      await page.getByRole('button', { name: 'Find' }).click();
      await page.waitForFunction(() => document.querySelectorAll('article.card').length === 1);
      assert((await page.locator('article.card dd').first().textContent()).trim() === id, 'the look-up by id found another');
    });

    await run('the program page finds a surface, creates an affiliate and edits it', async () => {
      await page.getByRole('link', { name: 'Program' }).click();
      await page.getByLabel('Search id or name').fill(surface);
      await page.getByRole('button', { name: 'Search' }).click();
      await page.getByRole('cell', { name: surface, exact: true }).waitFor();
      await shot(page, 'console-program');
      await page.getByRole('link', { name: 'Affiliates' }).click();
      const name = 'Browser affiliate ' + Date.now();
      const create = page.getByRole('form', { name: 'New affiliate' });
      await create.getByLabel('Name').fill(name);
      await create.getByRole('button', { name: 'Create' }).click();
      await create.getByText(/^Created /).waitFor();
      await page.getByLabel('Search id or name').fill(name);
      await page.getByRole('button', { name: 'Search' }).click();
      const row = page.getByRole('row').filter({ hasText: name });
      await row.getByRole('cell', { name: 'pending', exact: true }).waitFor();
      await row.getByRole('button', { name: 'Edit' }).click();
      const edit = page.getByRole('form', { name: /^Edit / });
      await edit.getByLabel('Status').selectOption('active');
      await edit.getByRole('button', { name: 'Save' }).click();
      await page.getByRole('row').filter({ hasText: name }).getByRole('cell', { name: 'active', exact: true }).waitFor();
      await shot(page, 'console-program-affiliates');
    });

    await run('the console is readable at phone width, without sideways scrolling', async () => {
      const phone = await browser.newContext({ viewport: { width: 390, height: 844 } });
      const p = await phone.newPage();
      watch(p);
      await p.goto(base + '/console/');
      await p.evaluate((t) => sessionStorage.setItem('postback-gateway.admin-token', t), adminToken);
      await p.goto(base + '/console/#/overview');
      await p.reload();
      await p.locator('#stat-accepted').waitFor();
      await p.locator('.chart').first().waitFor();
      await shot(p, 'console-overview-phone');
      for (const [hash, ready] of [['#/overview', '.chart'], ['#/log/' + encodeURIComponent(surface), '#log-entries details'],
        ['#/endpoints/' + encodeURIComponent(endpointId), 'section[aria-labelledby="attempts-h"] tbody tr'], ['#/program/links', 'form.card']]) {
        await p.goto(base + '/console/' + hash);
        await p.locator(ready).first().waitFor();
        const overflow = await p.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
        assert(overflow <= 1, hash + ' scrolls sideways by ' + overflow + ' px at 390 px');
      }
      await shot(p, 'console-program-phone');
      await phone.close();
    });

    await run('affiliate postbacks: an unknown macro is refused, a template is added and tested, its health shows, and the affiliate’s portal link shows it read-only', async () => {
      const admin = { authorization: 'Bearer ' + adminToken, 'content-type': 'application/json' };
      const aff = await (await fetch(base + '/admin/affiliates', { method: 'POST', headers: admin,
        body: JSON.stringify({ name: 'Postback affiliate', status: 'active' }) })).json();
      await page.goto(base + '/console/#/postbacks/' + encodeURIComponent(aff.id));
      await page.getByRole('heading', { name: 'Affiliate postbacks' }).waitFor();
      const form = page.getByRole('form', { name: 'Add a postback' });
      await form.getByLabel('URL template').fill(trackerUrl + '?cid={click_id}&payout={payout}&rev={revenue}');
      expected400++;
      await form.getByRole('button', { name: 'Add postback' }).click();
      await form.getByRole('alert').filter({ hasText: 'unknown macro {revenue}' }).waitFor();
      await form.getByLabel('URL template').fill(trackerUrl + '?cid={click_id}&payout={payout}');
      await form.getByRole('button', { name: 'Add postback' }).click();
      await form.getByText(/^Postback \S+ added/).waitFor();
      const row = () => page.getByRole('row').filter({ hasText: trackerUrl });
      await row().getByRole('button', { name: /^Send a test postback/ }).click();
      await row().getByText('test queued').waitFor();
      for (let i = 0; i < 50 && await row().getByRole('cell', { name: '100.0 %' }).count() === 0; i++) {
        await page.waitForTimeout(200);
        await page.reload();
        await page.getByRole('heading', { name: 'Affiliate postbacks' }).waitFor();
        await row().first().waitFor();
      }
      await row().getByRole('cell', { name: '100.0 %' }).waitFor();
      await shot(page, 'console-postbacks');
      const { p, portalContext } = await openPortal({ affiliateId: aff.id });
      await p.getByRole('link', { name: 'Affiliate postbacks' }).click();
      await p.getByRole('heading', { name: 'Affiliate postbacks' }).waitFor();
      await p.getByRole('row').filter({ hasText: trackerUrl }).getByRole('cell', { name: '100.0 %' }).waitFor();
      assert(await p.getByRole('button', { name: /Send a test/ }).count() === 0, 'the portal offers to fire a template');
      await shot(p, 'portal-postbacks');
      await portalContext.close();
    });

    await run('a portal link shows its surface’s endpoints and not another’s', async () => {
      const { link, p, portalContext } = await openPortal({ surfaceId: surface });
      await p.getByRole('link', { name: endpointUrl }).waitFor();
      assert(!p.url().includes('token'), 'the token stayed in the URL: ' + p.url());
      assert(await p.getByText(otherEndpointUrl).count() === 0, 'the portal shows another surface’s endpoint');
      await shot(p, 'portal-endpoints');
      // Another surface's endpoint, by id, through the portal: as if it did not exist.
      await p.goto(base + '/portal/#/endpoints/' + encodeURIComponent(otherEndpointId));
      await p.getByRole('alert').filter({ hasText: 'Not found' }).waitFor();
      await shot(p, 'portal-other-endpoint-refused');
      const asAdmin = await fetch(base + '/admin/overview', { headers: { authorization: 'Bearer ' + link.token } });
      assert(asAdmin.status === 401, 'the admin API accepted a portal token: ' + asAdmin.status);
      const adminAsPortal = await fetch(base + '/portal/api/webhook-endpoints', { headers: { authorization: 'Bearer ' + adminToken } });
      assert(adminAsPortal.status === 401, 'the portal API accepted the admin token: ' + adminAsPortal.status);
      await p.goto(base + '/portal/#/log');
      await p.locator('#log-entries details').first().waitFor();
      await shot(p, 'portal-postback-log');
      await p.goto(base + '/portal/#/endpoints/' + encodeURIComponent(endpointId));
      await p.getByRole('heading', { name: 'Attempt log' }).waitFor();
      await portalContext.close();
    });

    step = 'no script error and no content security policy violation';
    assert(problems.length === 0, problems.join('\n'));
    console.log('ok - ' + step);
  } catch (e) {
    console.log('not ok - ' + step + ': ' + (e && e.stack ? e.stack : e));
    try { await shot(page, 'failure'); } catch { /* the browser may be gone */ }
    await browser.close();
    process.exit(1);
  }
  await browser.close();
})();
