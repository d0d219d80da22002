// End-to-end: storages and a backup through the UI, against a real
// PostgreSQL, a real S3 server (versitygw) and a real keychain started by the
// Go harness (backend/internal/e2e, `make test-e2e`), which passes:
//   E2E_PG_*                      as in wizard.test.mjs
//   E2E_BACKUP_DIR                an empty folder for a folder storage
//   E2E_S3_ENDPOINT, E2E_S3_BUCKET, E2E_S3_ACCESS_KEY, E2E_S3_SECRET_KEY
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { dismissWelcome, fillConnection, repo, startSession } from './harness.mjs';

const env = process.env;
const need = ['E2E_PG_HOST', 'E2E_PG_PORT', 'E2E_PG_DB', 'E2E_PG_READER', 'E2E_PG_READER_PASSWORD', 'E2E_BACKUP_DIR', 'E2E_S3_ENDPOINT', 'E2E_S3_BUCKET', 'E2E_S3_ACCESS_KEY', 'E2E_S3_SECRET_KEY'];
const shots = join(repo, 'docs/screenshots');
let s;
let page;

async function place(name) {
  await page.getByRole('navigation', { name: 'Places' }).getByRole('button', { name }).click();
}

describe('storages and a backup against real PostgreSQL, S3 and keychain', () => {
  before(async () => {
    const missing = need.filter((k) => !env[k]);
    assert.deepEqual(missing, [], 'run through `make test-e2e` (go test -tags e2e ./backend/internal/e2e), which starts the servers');
    s = await startSession({ viewport: { width: 1100, height: 760 } });
    page = s.page;
    await dismissWelcome(page);
    await page.waitForFunction(async () => (await window.go.ui.SystemService.KeyStatus()).ready === true, null, { timeout: 60_000, polling: 250 });
  });

  after(async () => {
    await s?.stop();
  });

  test('a folder and an S3 bucket are tested and saved; a wrong endpoint is refused in words', async () => {
    await place('Storages');
    await page.getByRole('button', { name: 'Add storage' }).click();
    let dialog = page.getByRole('dialog');
    await dialog.getByLabel('Name').fill('local disk');
    await dialog.getByRole('textbox', { name: 'Folder' }).fill(env.E2E_BACKUP_DIR);
    await dialog.getByRole('button', { name: 'Test and save' }).click();
    await page.locator('[data-testid="storage-row"][data-name="local disk"]').waitFor({ timeout: 30_000 });

    const addS3 = async (name, endpoint) => {
      await page.getByRole('button', { name: 'Add storage' }).click();
      dialog = page.getByRole('dialog');
      await dialog.getByText('S3 / compatible').click();
      await dialog.getByLabel('Name').fill(name);
      await dialog.getByLabel('Endpoint').fill(endpoint);
      await dialog.getByLabel('Bucket').fill(env.E2E_S3_BUCKET);
      await dialog.getByLabel('Access key ID').fill(env.E2E_S3_ACCESS_KEY);
      await dialog.getByLabel('Secret access key').fill(env.E2E_S3_SECRET_KEY);
      await dialog.getByLabel(/Path-style/).check();
      await dialog.getByRole('button', { name: 'Test and save' }).click();
    };
    await addS3('nowhere', 'http://127.0.0.1:1');
    const problem = dialog.getByRole('alert');
    await problem.waitFor({ timeout: 60_000 });
    assert.match(await problem.innerText(), /127\.0\.0\.1:1/);
    await dialog.getByRole('button', { name: 'Cancel' }).click();

    await addS3('offsite', env.E2E_S3_ENDPOINT);
    const row = page.locator('[data-testid="storage-row"][data-name="offsite"]');
    await row.waitFor({ timeout: 30_000 });
    await row.getByRole('button', { name: 'Test' }).click();
    assert.match(await row.getByTestId('storage-test-result').innerText({ timeout: 30_000 }), /✓ Works/);
    await page.screenshot({ path: join(shots, 'storages.png') });
  });

  test('Back up now writes to both storages, with progress and a row per backup', async () => {
    await place('Overview');
    await page.getByRole('button', { name: 'Add database' }).click();
    const dialog = page.getByRole('dialog');
    await fillConnection(page, dialog, { name: 'Shop', user: env.E2E_PG_READER, password: env.E2E_PG_READER_PASSWORD });
    await dialog.getByRole('button', { name: 'Save database' }).click({ timeout: 30_000 });
    const card = page.locator('[data-testid="database-card"][data-name="Shop"]');
    await card.waitFor({ timeout: 30_000 });
    // Saved, never backed up: the card says so, in grey, not "safe".
    await card.locator('[data-testid="state-dot"][data-state="unprotected"]').waitFor({ timeout: 30_000 });
    assert.match(await card.getByTestId('state-line').innerText(), /Not backed up yet: No backup has succeeded yet/);
    await card.getByRole('button', { name: 'Backups' }).click();

    await page.getByRole('main').getByLabel('Storages').click();
    await page.getByRole('option', { name: 'local disk' }).click();
    await page.getByRole('option', { name: 'offsite' }).click();
    await page.keyboard.press('Escape');
    await page.getByRole('button', { name: 'Save', exact: true }).click();
    await page.getByRole('button', { name: 'Saved ✓' }).waitFor();

    await page.getByRole('button', { name: 'Back up now' }).click();
    const row = page.locator('[data-testid="backup-row"][data-status="succeeded"]');
    await row.waitFor({ timeout: 60_000 });
    const text = await row.innerText();
    assert.match(text, /✓ local disk/);
    assert.match(text, /✓ offsite/);
    assert.match(text, /\d+(\.\d)? (B|kB|MB)/);
    await page.getByTestId('backup-finished').filter({ hasText: 'Backed up ✓' }).waitFor({ timeout: 10_000 });
    assert.equal(await page.getByTestId('backup-finished').count(), 1);
    // The folder holds the encrypted backup, its manifest and the server's roles (globals), under the database's id.
    const files = readdirSync(env.E2E_BACKUP_DIR, { recursive: true }).filter((f) => String(f).endsWith('.pgsafe'));
    assert.equal(files.length, 3, `files in the folder: ${files}`);
    assert.equal(files.filter((f) => String(f).endsWith('.globals.pgsafe')).length, 1, `files in the folder: ${files}`);
    await page.screenshot({ path: join(shots, 'database-detail.png') });
  });

  test('verify, a drill on the drill server, and a restore into a new database, through the UI', async () => {
    const admin = new URL(env.E2E_PG_ADMIN_URL);
    const rowMenu = async () => {
      await page.locator('[data-testid="backup-row"][data-status="succeeded"]').first().getByRole('button', { name: /Actions for the backup/ }).click();
    };
    await rowMenu();
    await page.getByRole('menuitem', { name: 'Verify' }).click();
    assert.match(await page.getByTestId('check-result').innerText({ timeout: 60_000 }), /Verification passed ✓/);
    // The badges follow once the history is read again.
    await page.getByTestId('last-check').filter({ hasText: /last verified: just now ✓/ }).waitFor({ timeout: 10_000 });
    await page.getByTestId('verified-badge').filter({ hasText: /✓ verified/ }).first().waitFor({ timeout: 10_000 });

    // With no drill server set, a drill runs in a throwaway PostgreSQL that
    // PgSafe starts on this computer, and says how long the restore took.
    await page.getByTestId('drill-local').filter({ hasText: /drills run in a throwaway PostgreSQL 15/ }).waitFor({ timeout: 30_000 });
    await rowMenu();
    await page.getByRole('menuitem', { name: 'Restore drill' }).click();
    const local = page.getByTestId('check-result').filter({ hasText: /Restore drill/ });
    await local.waitFor({ timeout: 120_000 });
    const localText = await local.innerText();
    assert.match(localText, /Restore drill passed ✓/);
    assert.match(localText, /2 tables, row counts match, restored in \d+\.\d s \(local throwaway PostgreSQL 15\)/);
    assert.match(localText, /The throwaway server was stopped and removed/);
    await page.getByTestId('verified-badge').filter({ hasText: /✓ drill/ }).first().waitFor({ timeout: 10_000 });
    await page.setViewportSize({ width: 900, height: 600 });
    await local.scrollIntoViewIfNeeded();
    await page.screenshot({ path: join(shots, 'drill-local.png') });
    await page.emulateMedia({ colorScheme: 'dark' });
    await page.screenshot({ path: join(shots, 'drill-local-dark.png') });
    await page.emulateMedia({ colorScheme: 'light' });
    await page.setViewportSize({ width: 1100, height: 760 });

    // A drill server elsewhere: set it in Settings (checked before it is kept).
    await place('Settings');
    // Settings says no drill server is needed, and which server programs drills use.
    await page.getByTestId('drill-server').filter({ hasText: /No drill server is needed: drills run in a throwaway PostgreSQL 15\.\d+ \(/ }).waitFor({ timeout: 30_000 });
    await page.getByLabel('Drill server URL').fill(env.E2E_PG_ADMIN_URL);
    await page.getByRole('button', { name: 'Check and save' }).click();
    await page.getByText('Drills run on').waitFor({ timeout: 30_000 });
    assert.ok(!(await page.content()).includes(decodeURIComponent(admin.password)), 'the drill server password is on the page');

    await place('Overview');
    await page.locator('[data-testid="database-card"][data-name="Shop"]').getByRole('button', { name: 'Backups' }).click();
    // Coming back, the page knows the storages chosen earlier.
    assert.ok(await page.getByRole('button', { name: 'Back up now' }).isEnabled({ timeout: 10_000 }));
    assert.equal(await page.getByText('No storage yet').count(), 0);
    await rowMenu();
    await page.getByRole('menuitem', { name: 'Restore drill' }).click();
    assert.match(await page.getByTestId('check-result').innerText({ timeout: 120_000 }), /Restore drill passed ✓/);

    await rowMenu();
    await page.getByRole('menuitem', { name: 'Restore…' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByLabel('User with write access').fill(decodeURIComponent(admin.username));
    await dialog.getByLabel('Password', { exact: true }).fill(decodeURIComponent(admin.password));
    await dialog.getByLabel('New database (must not exist yet)').fill('shop_from_ui');
    await dialog.getByRole('button', { name: 'Continue' }).click();
    assert.match(await dialog.getByTestId('restore-confirm').innerText(), /create the database shop_from_ui/);
    await page.screenshot({ path: join(shots, 'restore-confirm.png') });
    await dialog.getByRole('button', { name: 'Restore', exact: true }).click();
    const done = dialog.getByTestId('restore-finished');
    await done.waitFor({ timeout: 120_000 });
    assert.match(await done.innerText(), /Restored into shop_from_ui/);
    assert.ok(!(await page.content()).includes(decodeURIComponent(admin.password)), 'the write password is on the page');
    await dialog.getByRole('button', { name: 'Close' }).click();
    await page.screenshot({ path: join(shots, 'database-verified.png') });
  });

  // A changed password turning the card red, live, and fixed from the window:
  // overview.test.mjs.

  test('a schedule and a webhook notifier set up through the UI; Send test reaches the webhook', async () => {
    await place('Overview');
    await page.locator('[data-testid="database-card"][data-name="Shop"]').getByRole('button', { name: 'Backups' }).click();
    const panel = page.getByTestId('schedule-panel');
    await panel.getByText('Weekly', { exact: true }).click();
    // A weekly schedule without days is explained, and cannot be saved.
    await panel.getByTestId('schedule-preview').filter({ hasText: /day/i }).waitFor({ timeout: 10_000 });
    await panel.getByText('Mon', { exact: true }).click();
    await panel.getByText('Thu', { exact: true }).click();
    await panel.getByLabel('At (HH:MM)').fill('03:15');
    await panel.getByTestId('schedule-preview').filter({ hasText: /03:15/ }).waitFor({ timeout: 10_000 });
    await panel.getByRole('button', { name: 'Save schedule' }).click();
    await panel.getByRole('button', { name: 'Saved ✓' }).waitFor();
    assert.match(await panel.getByTestId('schedule-status').innerText({ timeout: 10_000 }), /03:15/);
    await panel.scrollIntoViewIfNeeded();
    await page.screenshot({ path: join(shots, 'schedule.png') });
    await place('Overview');
    assert.match(await page.getByTestId('scheduler-line').innerText({ timeout: 10_000 }), /Next backup: Shop/);

    const received = [];
    const server = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        received.push({ path: req.url, headers: req.headers, body });
        res.end('ok');
      });
    });
    await new Promise((r) => server.listen(0, '127.0.0.1', r));
    const hookUrl = `http://127.0.0.1:${server.address().port}/hooks/pgsafe-secret-token-93`;
    try {
      await place('Notifications');
      await page.getByRole('button', { name: 'Add notifier' }).click();
      const dialog = page.getByRole('dialog');
      await dialog.getByLabel('Kind').click();
      await page.getByRole('option', { name: 'Webhook' }).click();
      await dialog.getByLabel('Name').fill('ops hook');
      await dialog.getByLabel('URL').fill(hookUrl);
      await dialog.getByRole('button', { name: 'Send test' }).click();
      await dialog.getByTestId('notifier-form-tested').waitFor({ timeout: 30_000 });
      await dialog.getByRole('button', { name: 'Save' }).click();
      const row = page.locator('[data-testid="notifier-row"][data-name="ops hook"]');
      await row.waitFor({ timeout: 30_000 });
      assert.match(await row.innerText(), /url set ✓/);
      await row.getByRole('button', { name: 'Send test' }).click();
      assert.match(await row.getByTestId('notifier-test-result').innerText({ timeout: 30_000 }), /Sent ✓/);
      assert.equal(received.length, 2);
      assert.equal(received[0].path, '/hooks/pgsafe-secret-token-93');
      assert.equal(JSON.parse(received[1].body).kind, 'test');
      assert.ok(!(await page.content()).includes('pgsafe-secret-token-93'), 'the webhook URL (a secret) is on the page');
      await page.screenshot({ path: join(shots, 'notifications.png') });
    } finally {
      server.close();
    }
  });

  test('no password or secret key is ever on the page', async () => {
    const html = await page.content();
    for (const secret of [env.E2E_PG_READER_PASSWORD, env.E2E_S3_SECRET_KEY]) assert.ok(!html.includes(secret), 'a secret is on the page');
    await place('Storages');
    const html2 = await page.content();
    assert.ok(!html2.includes(env.E2E_S3_SECRET_KEY));
  });

  test('no unexpected page errors', () => {
    assert.deepEqual(s.pageErrors, []);
  });
});
