// End-to-end: the Overview's states, live. A scheduled backup shows on its
// database's page as it runs; a scheduled backup that fails (the role's
// password changed on the server) turns its card red within one event, with
// no reload; the password updated from the window makes it green again. Then
// Overview with a database in each state, captured light and dark at 900×600
// and 1280×800 (docs/screenshots/overview-states-*.png).
//
// Set-up that other tests drive through the UI (adding storages and
// databases, saving the recovery kit) goes through the same Go bindings the
// UI calls; what this file is about goes through the UI.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { repo, startSession } from './harness.mjs';

const env = process.env;
const shots = join(repo, 'docs/screenshots');
const psql = '/usr/lib/postgresql/15/bin/psql';
const sql = (q) => execFileSync(psql, [env.E2E_PG_ADMIN_URL, '-qc', q], { stdio: 'pipe' });
// Roles of this file's own (the cluster is shared with the other files).
const roles = { shop: ['ov_shop_reader', 'ov-shop-pw-5521'], billing: ['ov_billing_reader', 'ov-billing-pw-8803'], blog: ['ov_blog_reader', 'ov-blog-pw-1177'] };
let s;
let page;
let folder;

const card = (name) => page.locator(`[data-testid="database-card"][data-name="${name}"]`);
const place = (name) => page.getByRole('navigation', { name: 'Places' }).getByRole('button', { name }).click();
const go = (service, method, ...args) => page.evaluate(([sv, m, a]) => window.go.ui[sv][m](...a), [service, method, args]);

describe('Overview states, live', () => {
  before(async () => {
    assert.ok(env.E2E_PG_ADMIN_URL && env.E2E_PG_HOST, 'run through `make test-e2e`, which starts the servers');
    for (const [role, pw] of Object.values(roles)) {
      sql(`DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '${role}') THEN CREATE ROLE ${role} LOGIN; END IF; END $$;
           ALTER ROLE ${role} PASSWORD '${pw}'; GRANT SELECT ON customers, orders TO ${role};`);
    }
    folder = mkdtempSync(join(tmpdir(), 'pgsafe-e2e-overview-'));
    s = await startSession({ viewport: { width: 1280, height: 800 } });
    page = s.page;
    await page.waitForFunction(async () => (await window.go.ui.SystemService.KeyStatus()).ready === true, null, { timeout: 60_000, polling: 250 });
    await go('StorageService', 'Add', { name: 'Local disk', kind: 'local', path: folder });
    const add = (name, [user, password]) =>
      go('DatabaseService', 'Add', { name, host: env.E2E_PG_HOST, port: Number(env.E2E_PG_PORT), dbname: env.E2E_PG_DB, user, password, sslmode: 'disable', storages: ['Local disk'], countRows: true }, false);
    await add('Shop', roles.shop);
    await add('Billing', roles.billing);
    await add('Analytics', roles.blog);
    await add('Blog', roles.blog);
    await page.reload({ waitUntil: 'domcontentloaded' }); // the cards of the databases added behind its back
  });

  after(async () => {
    try {
      await s?.stop();
    } finally {
      for (const [role] of Object.values(roles)) sql(`REVOKE ALL ON customers, orders FROM ${role}; DROP ROLE IF EXISTS ${role};`);
      if (folder) rmSync(folder, { recursive: true, force: true });
    }
  });

  test('first start: the welcome saves a recovery kit, and until then every card says none is saved', async () => {
    await card('Analytics').locator('[data-testid="state-dot"][data-state="unprotected"]').waitFor({ timeout: 30_000 });
    // Not backed up, and no kit: the second reason (on its page).
    assert.match(await card('Analytics').getByTestId('state-line').innerText(), /and 1 more on its page/);
    const welcome = page.getByRole('dialog', { name: 'Welcome to PgSafe' });
    await welcome.waitFor({ timeout: 60_000 });
    await welcome.getByRole('button', { name: 'Save a recovery kit' }).click();
    const dialog = page.getByRole('dialog', { name: 'Save a recovery kit' });
    await dialog.getByTestId('generated-passphrase').filter({ hasText: /^\S+( \S+){5}$/ }).waitFor({ timeout: 30_000 });
    await dialog.getByLabel('I have written the passphrase down').check();
    await dialog.getByRole('button', { name: 'Next' }).click();
    await dialog.getByLabel('Kit file').fill(join(folder, 'kit.txt'));
    await dialog.getByRole('button', { name: 'Save' }).click();
    await dialog.getByTestId('kit-saved').waitFor({ timeout: 30_000 });
    await dialog.getByRole('button', { name: 'Done' }).click();
    await dialog.waitFor({ state: 'detached' });
    await card('Analytics').getByTestId('state-line').filter({ hasNotText: /more on its page/ }).waitFor({ timeout: 10_000 });
    // Blog, backed up: attention for being never verified, not for the kit.
    await go('BackupService', 'Start', 'Blog');
    await card('Blog').locator('[data-testid="state-dot"][data-state="attention"]').waitFor({ timeout: 60_000 });
    assert.doesNotMatch(await card('Blog').getByTestId('state-line').innerText(), /recovery kit/);
  });

  test('a scheduled backup shows live; a failing one turns the card red with no reload; the password fixed in the window makes it green', async () => {
    // Shop backed up and verified (through the UI's own calls): protected.
    await go('BackupService', 'Start', 'Shop');
    await card('Shop').locator('[data-testid="state-dot"][data-state="attention"]').waitFor({ timeout: 60_000 }); // never verified yet
    const [latest] = await go('BackupService', 'List', 'Shop', 1);
    await go('RestoreService', 'Verify', latest.id);
    await card('Shop').locator('[data-testid="state-dot"][data-state="protected"]').waitFor({ timeout: 30_000 });

    // Every engine event the page receives, and every time it reads the states again.
    await page.evaluate(() => {
      window.__events = [];
      window.runtime.EventsOn('engine:event', (ev) => window.__events.push(ev));
      const svc = window.go.ui.DatabaseService;
      const read = svc.Status;
      window.__statusReads = 0;
      svc.Status = (...a) => {
        window.__statusReads++;
        return read(...a);
      };
    });

    // A schedule every minute; its run shows on the database page while it is open.
    await go('ScheduleService', 'Set', 'Shop', { enabled: true, kind: 'every', everyMinutes: 1, at: '', weekdays: [], dayOfMonth: 0, cron: '', timeZone: '' });
    await card('Shop').getByRole('button', { name: 'Backups' }).click();
    const finished = page.getByTestId('backup-finished').filter({ hasText: 'Backed up ✓ (scheduled)' });
    await finished.waitFor({ timeout: 180_000 });
    const seen = await page.evaluate(() => window.__events.filter((e) => e.database === 'Shop' && e.job === 'backup').map((e) => `${e.type}:${e.origin}`));
    assert.ok(seen.includes('job.started:scheduled'), `no job.started of the scheduled backup: ${seen}`);
    assert.ok(seen.includes('job.progress:scheduled'), `no progress of the scheduled backup reached the page: ${seen}`);
    assert.equal(seen.at(-1), 'job.finished:scheduled');
    assert.ok(await page.getByRole('button', { name: 'Back up now' }).isEnabled(), 'Back up now is ready again');

    // The password changes on the server; the next scheduled run fails and the
    // card turns red from that one event, the states not read again.
    await place('Overview');
    await card('Shop').locator('[data-testid="state-dot"][data-state="protected"]').waitFor({ timeout: 30_000 });
    const reads = await page.evaluate(() => window.__statusReads);
    sql(`ALTER ROLE ${roles.shop[0]} PASSWORD 'someone-rotated-it-4410'`);
    await card('Shop').locator('[data-testid="state-dot"][data-state="failing"]').waitFor({ timeout: 180_000 });
    assert.equal(await page.evaluate(() => window.__statusReads), reads, 'the Overview read the states again instead of following the event');
    assert.match(await card('Shop').getByTestId('state-line').innerText(), /Failing: The last backup failed: .*password/i);
    assert.match(await page.getByTestId('failing-banner').innerText(), /Shop is not being backed up safely/);
    await page.screenshot({ path: join(shots, 'overview-failing.png') });

    // On its page: the failed row blames the database, not the storage.
    await card('Shop').getByRole('button', { name: 'Backups' }).click();
    const reason = page.getByTestId('backup-reason').first();
    assert.match(await reason.innerText({ timeout: 10_000 }), /^The database failed: .*password/i);
    const failedRow = page.locator('[data-testid="backup-row"][data-status="failed"]').first();
    assert.equal(await failedRow.getByText(/✗/).count(), 0, 'a refused password is blamed on the storage');
    await page.locator('[data-testid="page-state"][data-state="failing"]').waitFor({ timeout: 10_000 });
    assert.equal(await page.getByTestId('last-check').count(), 0, 'a failing database\'s page shows no "verified ✓" of an older backup');
    // The failure as a user meets it on the page, at 900×600, light and dark.
    const size = page.viewportSize();
    await page.setViewportSize({ width: 900, height: 600 });
    for (const scheme of ['light', 'dark']) {
      await page.emulateMedia({ colorScheme: scheme });
      await page.screenshot({ path: join(shots, `database-failed-900-${scheme}.png`) });
    }
    await page.emulateMedia({ colorScheme: 'light' });
    await page.setViewportSize(size);

    // The user updates the password from the window (the role's new one)
    // and backs up at once (the schedule would retry only after its delay).
    await go('ScheduleService', 'Clear', 'Shop');
    sql(`ALTER ROLE ${roles.shop[0]} PASSWORD '${roles.shop[1]}-new'`);
    await editPassword(`${roles.shop[1]}-new`);
    await page.getByRole('button', { name: 'Back up now' }).click();
    await page.getByTestId('backup-finished').filter({ hasText: 'Backed up ✓' }).waitFor({ timeout: 60_000 });
    await place('Overview');
    await card('Shop').locator('[data-testid="state-dot"][data-state="protected"]').waitFor({ timeout: 30_000 });
    assert.equal(await page.getByTestId('failing-banner').count(), 0);
  });

  test('Overview with a database in each state, light and dark, 900×600 and 1280×800', async () => {
    // Billing: backed up once, then its password changed and the next backup failed.
    await go('BackupService', 'Start', 'Billing');
    await card('Billing').locator('[data-testid="state-dot"][data-state="attention"]').waitFor({ timeout: 60_000 });
    sql(`ALTER ROLE ${roles.billing[0]} PASSWORD 'rotated-by-ops-2231'`);
    await go('BackupService', 'Start', 'Billing');
    await card('Billing').locator('[data-testid="state-dot"][data-state="failing"]').waitFor({ timeout: 60_000 });
    // Blog: backed up (above), never verified. Analytics: never backed up.
    await card('Blog').locator('[data-testid="state-dot"][data-state="attention"]').waitFor({ timeout: 60_000 });
    await card('Analytics').locator('[data-testid="state-dot"][data-state="unprotected"]').waitFor({ timeout: 10_000 });
    await card('Shop').locator('[data-testid="state-dot"][data-state="protected"]').waitFor({ timeout: 10_000 });

    // Failing first, then not yet backed up, attention, protected.
    const order = await page.locator('[data-testid="database-card"]').evaluateAll((cs) => cs.map((c) => c.dataset.name));
    assert.deepEqual(order, ['Billing', 'Analytics', 'Blog', 'Shop']);
    assert.match(await card('Blog').getByTestId('card-fix').innerText(), /Verify…/);
    assert.equal(await card('Blog').getByTestId('card-fix').getAttribute('data-action'), 'Verify the newest backup');
    assert.match(await card('Analytics').getByTestId('card-fix').innerText(), /Back up now/);

    for (const [w, h] of [[1280, 800], [900, 600]]) {
      await page.setViewportSize({ width: w, height: h });
      for (const scheme of ['light', 'dark']) {
        await page.emulateMedia({ colorScheme: scheme });
        await page.getByTestId('failing-banner').waitFor();
        await page.screenshot({ path: join(shots, `overview-states-${w}-${scheme}.png`) });
      }
    }
    await page.emulateMedia({ colorScheme: 'light' });
  });

  test('no password is on the page, and no unexpected page errors', async () => {
    const html = await page.content();
    for (const [, pw] of Object.values(roles)) assert.ok(!html.includes(pw), 'a password is on the page');
    assert.deepEqual(s.pageErrors, []);
  });
});

/** Updates the open database's password through its Edit connection dialog. */
async function editPassword(password) {
  await page.getByRole('button', { name: 'Edit connection…' }).click();
  const dialog = page.getByRole('dialog');
  await dialog.getByLabel('Password', { exact: true }).fill(password);
  await dialog.getByRole('button', { name: 'Test and check privileges' }).click();
  await dialog.getByRole('button', { name: 'Save connection' }).click({ timeout: 60_000 });
  await dialog.waitFor({ state: 'detached', timeout: 60_000 });
}
