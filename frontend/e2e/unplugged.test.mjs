// End-to-end: a storage that vanished. A database backs up to a folder on a
// "USB drive"; the drive is unplugged (its folder is gone): Back up now fails,
// the card turns red saying which storage and what to do, the failed row
// blames the storage, and nothing was written anywhere else (PgSafe never
// creates a missing storage folder: it would fill the system disk). Plugged
// back, the next backup succeeds. Captured light and dark at 900×600
// (docs/screenshots/overview-storage-unplugged-900-*.png,
// database-storage-unplugged-900-*.png).
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { dismissWelcome, repo, startSession } from './harness.mjs';

const env = process.env;
const shots = join(repo, 'docs/screenshots');
let s;
let page;
let parent;
let drive;

const place = (name) => page.getByRole('navigation', { name: 'Places' }).getByRole('button', { name }).click();
const go = (service, method, ...args) => page.evaluate(([sv, m, a]) => window.go.ui[sv][m](...a), [service, method, args]);
const card = () => page.locator('[data-testid="database-card"][data-name="Shop"]');

async function both(name) {
  for (const scheme of ['light', 'dark']) {
    await page.emulateMedia({ colorScheme: scheme });
    await page.screenshot({ path: join(shots, `${name}-900-${scheme}.png`) });
  }
  await page.emulateMedia({ colorScheme: 'light' });
}

describe('A storage that vanished (an unplugged drive)', () => {
  before(async () => {
    assert.ok(env.E2E_PG_HOST && env.E2E_PG_READER, 'run through `make test-e2e`, which starts the servers');
    parent = mkdtempSync(join(tmpdir(), 'pgsafe-e2e-unplugged-'));
    drive = join(parent, 'usb-drive');
    mkdirSync(drive);
    s = await startSession({ viewport: { width: 900, height: 600 } });
    page = s.page;
    await dismissWelcome(page);
    await page.waitForFunction(async () => (await window.go.ui.SystemService.KeyStatus()).ready === true, null, { timeout: 60_000, polling: 250 });
    await go('StorageService', 'Add', { name: 'USB drive', kind: 'local', path: drive });
    await go('DatabaseService', 'Add', {
      name: 'Shop', host: env.E2E_PG_HOST, port: Number(env.E2E_PG_PORT), dbname: env.E2E_PG_DB, user: env.E2E_PG_READER,
      password: env.E2E_PG_READER_PASSWORD, sslmode: 'disable', storages: ['USB drive'], countRows: true,
    }, false);
    await go('ScheduleService', 'Pause', 60);
    await page.reload({ waitUntil: 'domcontentloaded' });
    await card().getByRole('button', { name: 'Back up Shop now' }).click();
    await card().locator('[data-testid="state-dot"][data-state="attention"]').waitFor({ timeout: 60_000 }); // backed up, never verified
    assert.ok(readdirSync(drive).length > 0, 'the first backup wrote nothing to the drive');
  });

  after(async () => {
    try {
      await s?.stop();
    } finally {
      if (parent) rmSync(parent, { recursive: true, force: true });
    }
  });

  test('unplugged: the backup fails, the card says which storage and what to do, the row blames the storage', async () => {
    rmSync(drive, { recursive: true, force: true });
    await card().getByRole('button', { name: 'Back up Shop now' }).click();
    await card().locator('[data-testid="state-dot"][data-state="failing"]').waitFor({ timeout: 60_000 });
    const line = await card().getByTestId('state-line').innerText();
    assert.match(line, /USB drive/, `the card does not name the storage: ${line}`);
    assert.match(line, /does not exist.*mount the drive/i, `the card does not say what to do: ${line}`);
    assert.doesNotMatch(line, /pgsafe |--/, 'a CLI hint in the window');
    assert.match(await page.getByTestId('failing-banner').innerText(), /Shop is not being backed up safely/);
    assert.ok(!existsSync(drive), 'PgSafe created the missing storage folder');
    await both('overview-storage-unplugged');

    await card().getByRole('button', { name: 'Backups' }).click();
    const reason = page.getByTestId('backup-reason').first();
    assert.match(await reason.innerText({ timeout: 10_000 }), /^The storage USB drive failed: the folder .+ does not exist: create it, or mount the drive/);
    await page.locator('[data-testid="page-state"][data-state="failing"]').waitFor({ timeout: 10_000 });
    await reason.scrollIntoViewIfNeeded();
    await both('database-storage-unplugged');
  });

  test('plugged back: the next backup succeeds and the card is no longer red', async () => {
    mkdirSync(drive);
    await page.getByRole('button', { name: 'Back up now' }).click();
    await page.getByTestId('backup-finished').filter({ hasText: 'Backed up ✓' }).waitFor({ timeout: 60_000 });
    assert.ok(readdirSync(drive).length > 0, 'the backup wrote nothing to the drive');
    await place('Overview');
    await card().locator('[data-testid="state-dot"][data-state="attention"]').waitFor({ timeout: 30_000 });
    assert.equal(await page.getByTestId('failing-banner').count(), 0);
  });

  test('no password is on the page, and no unexpected page errors', async () => {
    assert.ok(!(await page.content()).includes(env.E2E_PG_READER_PASSWORD), 'a password is on the page');
    assert.deepEqual(s.pageErrors, []);
  });
});
