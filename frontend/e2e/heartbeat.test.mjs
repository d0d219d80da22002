// End-to-end: a heartbeat notifier added in the window (healthchecks, one
// check per database through {database}), pointed at a ping server this test
// starts; a backup against the harness's PostgreSQL pings start, then
// success; the ping URL (a secret) never shows on the page. The Go harness
// (backend/internal/e2e) passes E2E_PG_* and E2E_BACKUP_DIR.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { addDatabaseOn, dismissWelcome, repo, startSession, until } from './harness.mjs';

const env = process.env;
const need = ['E2E_PG_HOST', 'E2E_PG_PORT', 'E2E_PG_DB', 'E2E_PG_READER', 'E2E_PG_READER_PASSWORD', 'E2E_BACKUP_DIR'];
const shots = join(repo, 'docs/screenshots');
const token = 'hbKEYsecret4417';
let s;
let page;
let server;
const pings = [];

async function place(name) {
  await page.getByRole('navigation', { name: 'Places' }).getByRole('button', { name }).click();
}

describe('a heartbeat notifier through the window', () => {
  before(async () => {
    const missing = need.filter((k) => !env[k]);
    assert.deepEqual(missing, [], 'run through `make test-e2e` (go test -tags e2e ./backend/internal/e2e), which starts the servers');
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        pings.push(`${req.method} ${req.url}${body ? ' ' + body : ''}`);
        res.end('OK');
      });
    });
    await new Promise((r) => server.listen(0, '127.0.0.1', r));
    s = await startSession({ viewport: { width: 900, height: 600 } });
    page = s.page;
    await dismissWelcome(page);
    await page.waitForFunction(async () => (await window.go.ui.SystemService.KeyStatus()).ready === true, null, { timeout: 60_000, polling: 250 });
  });

  after(async () => {
    await s?.stop();
    server?.close();
  });

  test('the form explains each service; Send test pings; a backup pings start then success', async () => {
    const pingURL = `http://127.0.0.1:${server.address().port}/${token}/{database}?create=1`;
    await place('Notifications');
    await page.getByRole('button', { name: 'Add notifier' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByLabel('Kind').click();
    await page.getByRole('option', { name: /Heartbeat/ }).click();
    await dialog.getByLabel('Name').fill('hc');
    await dialog.getByLabel('Service').click();
    await page.getByRole('option', { name: 'Uptime Kuma (push)' }).click();
    await dialog.getByText('Uptime Kuma has no start ping.', { exact: false }).waitFor();
    await dialog.getByLabel('Service').click();
    await page.getByRole('option', { name: 'Healthchecks.io' }).click();
    await dialog.getByText('Pings <URL>/start, <URL> on success and <URL>/fail with the reason.').waitFor();
    await dialog.getByLabel('Ping URL').fill(pingURL);
    await page.screenshot({ path: join(shots, 'notifier-heartbeat.png') });
    await page.emulateMedia({ colorScheme: 'dark' });
    await page.screenshot({ path: join(shots, 'notifier-heartbeat-dark.png') });
    await page.emulateMedia({ colorScheme: 'light' });

    await dialog.getByRole('button', { name: 'Send test' }).click();
    await dialog.getByTestId('notifier-form-tested').waitFor({ timeout: 30_000 });
    assert.deepEqual(pings, [`GET /${token}/pgsafe-test?create=1`]);
    await dialog.getByRole('button', { name: 'Save' }).click();
    const row = page.locator('[data-testid="notifier-row"][data-name="hc"]');
    await row.waitFor({ timeout: 30_000 });
    assert.match(await row.innerText(), /Heartbeat .* · url set ✓ · healthchecks · backups started, succeeded, failed/s);

    await page.setViewportSize({ width: 1100, height: 760 });
    await place('Storages');
    await page.getByRole('button', { name: 'Add storage' }).click();
    const sd = page.getByRole('dialog');
    await sd.getByLabel('Name').fill('disk');
    await sd.getByRole('textbox', { name: 'Folder' }).fill(mkdtempSync(join(env.E2E_BACKUP_DIR, 'hb-')));
    await sd.getByRole('button', { name: 'Test and save' }).click();
    await page.locator('[data-testid="storage-row"][data-name="disk"]').waitFor({ timeout: 30_000 });

    await addDatabaseOn(page, { name: 'Shop', storage: 'disk' });
    await page.getByRole('button', { name: 'Back up now' }).click();
    await page.getByTestId('backup-finished').filter({ hasText: 'Backed up ✓' }).first().waitFor({ timeout: 90_000 });
    await until('the start and success pings', () => pings.length >= 3, 30_000);
    assert.deepEqual(pings.slice(1), [`GET /${token}/Shop/start?create=1`, `GET /${token}/Shop?create=1`]);

    await place('Notifications');
    await row.waitFor();
    assert.ok(!(await page.content()).includes(token), 'the ping URL (a secret) is on the page');
  });

  test('no unexpected page errors', () => {
    assert.deepEqual(s.pageErrors, []);
  });
});
