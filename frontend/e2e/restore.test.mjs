// End-to-end: a restore through the window into a new database, against the
// real PostgreSQL and keychain the Go harness starts (backend/internal/e2e,
// `make test-e2e`; E2E_ONLY=restore runs only this file). The harness's shop
// database holds 120 customers and 700 orders; E2E_PG_ADMIN_URL has write
// credentials. This file keeps its own settings home and backup folder.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { dismissWelcome, fillConnection, repo, startSession, until } from './harness.mjs';

const env = process.env;
const need = ['E2E_PG_HOST', 'E2E_PG_PORT', 'E2E_PG_DB', 'E2E_PG_READER', 'E2E_PG_READER_PASSWORD', 'E2E_PG_ADMIN_URL'];
const shots = join(repo, 'docs/screenshots');
const target = 'shop_restore_e2e';
const psql = '/usr/lib/postgresql/15/bin/psql';
let s;
let page;
let folder;

describe('restore through the window', () => {
  before(async () => {
    const missing = need.filter((k) => !env[k]);
    assert.deepEqual(missing, [], 'run through `make test-e2e` (go test -tags e2e ./backend/internal/e2e), which starts the servers');
    folder = mkdtempSync(join(tmpdir(), 'pgsafe-e2e-restore-'));
    s = await startSession({ viewport: { width: 1100, height: 760 } });
    page = s.page;
    // The first start's welcome (recovery kit): "Later" (kit.test.mjs tests it).
    await dismissWelcome(page);
    await page.waitForFunction(async () => (await window.go.ui.SystemService.KeyStatus()).ready === true, null, { timeout: 60_000, polling: 250 });
  });

  after(async () => {
    await s?.stop();
    if (folder) rmSync(folder, { recursive: true, force: true });
  });

  test('a backup restored into a new database ends with the rows compared and a connection string without the password', async () => {
    const admin = new URL(env.E2E_PG_ADMIN_URL);
    const password = decodeURIComponent(admin.password);
    const place = (name) => page.getByRole('navigation', { name: 'Places' }).getByRole('button', { name }).click();

    await place('Storages');
    await page.getByRole('button', { name: 'Add storage' }).click();
    let dialog = page.getByRole('dialog');
    await dialog.getByLabel('Name').fill('restore disk');
    await dialog.getByRole('textbox', { name: 'Folder' }).fill(folder);
    await dialog.getByRole('button', { name: 'Test and save' }).click();
    await page.locator('[data-testid="storage-row"][data-name="restore disk"]').waitFor({ timeout: 30_000 });

    await place('Overview');
    await page.getByRole('button', { name: 'Add database' }).click();
    dialog = page.getByRole('dialog');
    await fillConnection(page, dialog, { name: 'Shop', user: env.E2E_PG_READER, password: env.E2E_PG_READER_PASSWORD });
    await dialog.getByRole('button', { name: 'Save database' }).click({ timeout: 30_000 });
    const card = page.locator('[data-testid="database-card"][data-name="Shop"]');
    await card.waitFor({ timeout: 30_000 });
    await card.getByRole('button', { name: 'Backups' }).click();
    await page.getByRole('main').getByLabel('Storages').click();
    await page.getByRole('option', { name: 'restore disk' }).click();
    await page.keyboard.press('Escape');
    await page.getByRole('button', { name: 'Save', exact: true }).click();
    await page.getByRole('button', { name: 'Saved ✓' }).waitFor();
    await page.getByRole('button', { name: 'Back up now' }).click();
    await page.locator('[data-testid="backup-row"][data-status="succeeded"]').waitFor({ timeout: 60_000 });

    await page.locator('[data-testid="backup-row"][data-status="succeeded"]').first().getByRole('button', { name: /Actions for the backup/ }).click();
    await page.getByRole('menuitem', { name: 'Restore…' }).click();
    dialog = page.getByRole('dialog');
    const name = dialog.getByLabel('New database (must not exist yet)');
    // The proposed name needs no quoting.
    assert.match(await name.inputValue(), /^shop_restored_\d{8}_\d{4}$/);
    await dialog.getByLabel('User with write access').fill(decodeURIComponent(admin.username));
    await dialog.getByLabel('Password', { exact: true }).fill(password);
    // A typed name that would need quoting is refused in a sentence.
    await name.fill('Shop Restore');
    await dialog.getByText(/“Shop Restore” would need quoting in SQL/).waitFor();
    assert.ok(await dialog.getByRole('button', { name: 'Continue' }).isDisabled());
    await name.fill(target);
    await dialog.getByRole('button', { name: 'Continue' }).click();
    assert.match(await dialog.getByTestId('restore-confirm').innerText(), new RegExp(`create the database ${target}`));
    await dialog.getByRole('button', { name: 'Restore', exact: true }).click();

    const done = dialog.getByTestId('restore-finished');
    await done.waitFor({ timeout: 120_000 });
    assert.match(await done.innerText(), new RegExp(`Restored into ${target}`));
    assert.equal(await dialog.getByTestId('restore-rows').innerText(), 'All 2 tables have the rows recorded at backup time ✓');
    const conn = await dialog.getByTestId('restore-connection').inputValue();
    assert.equal(conn, `postgres://${decodeURIComponent(admin.username)}@${env.E2E_PG_HOST}:${env.E2E_PG_PORT}/${target}`);
    assert.ok(!(await page.content()).includes(password), 'the write password is on the page');
    // The restored database holds what the harness put in shop.
    const restored = new URL(env.E2E_PG_ADMIN_URL);
    restored.pathname = `/${target}`;
    const counts = execFileSync(psql, [restored.toString(), '-Atc', 'SELECT (SELECT count(*) FROM customers), (SELECT count(*) FROM orders)'], { stdio: 'pipe' });
    assert.equal(counts.toString().trim(), '120|700');

    await page.setViewportSize({ width: 900, height: 600 });
    await page.screenshot({ path: join(shots, 'restore-done.png') });
    await page.emulateMedia({ colorScheme: 'dark' });
    await page.screenshot({ path: join(shots, 'restore-done-dark.png') });
    await page.emulateMedia({ colorScheme: 'light' });
    await dialog.getByRole('button', { name: 'Close' }).click();
    await page.setViewportSize({ width: 1100, height: 760 });
  });

  test('restored by a role that is not a superuser, owners kept: the dialog says why it cannot, before anything is written, and restores without them when asked', async () => {
    execFileSync(psql, [env.E2E_PG_ADMIN_URL, '-qc', "CREATE ROLE restorer_e2e LOGIN CREATEDB PASSWORD 'restorer-e2e-pw-61'"], { stdio: 'pipe' });
    await page.locator('[data-testid="backup-row"][data-status="succeeded"]').first().getByRole('button', { name: /Actions for the backup/ }).click();
    await page.getByRole('menuitem', { name: 'Restore…' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByLabel('User with write access').fill('restorer_e2e');
    await dialog.getByLabel('Password', { exact: true }).fill('restorer-e2e-pw-61');
    await dialog.getByLabel('New database (must not exist yet)').fill(`${target}_owners`);
    assert.equal(await dialog.getByLabel(/Objects belong to the restoring user/).isChecked(), false, 'owners are kept by default');
    await dialog.getByRole('button', { name: 'Continue' }).click();
    await dialog.getByRole('button', { name: 'Restore', exact: true }).click();
    const headline = dialog.getByTestId('restore-roles-headline');
    await headline.waitFor({ timeout: 120_000 });
    assert.match(await headline.innerText(), /The restoring user restorer_e2e is not a superuser nor a member of .+, so it cannot give objects to/);
    assert.match(await headline.innerText(), /Nothing was written\./);
    const exists = execFileSync(psql, [env.E2E_PG_ADMIN_URL, '-Atc', `SELECT count(*) FROM pg_database WHERE datname = '${target}_owners'`], { stdio: 'pipe' });
    assert.equal(exists.toString().trim(), '0', 'the refused restore created the database');
    await dialog.getByRole('radio', { name: /Restore without owners and privileges/ }).check();
    await dialog.getByRole('button', { name: 'Restore again this way' }).click();
    const done = dialog.getByTestId('restore-finished');
    await done.waitFor({ timeout: 120_000 });
    assert.equal(await dialog.getByTestId('restore-rows').innerText(), 'All 2 tables have the rows recorded at backup time ✓');
    assert.equal(await dialog.getByTestId('restore-connection').inputValue(), `postgres://restorer_e2e@${env.E2E_PG_HOST}:${env.E2E_PG_PORT}/${target}_owners`);
    assert.ok(!(await page.content()).includes('restorer-e2e-pw-61'), 'the write password is on the page');
    const owner = execFileSync(psql, [env.E2E_PG_ADMIN_URL.replace(/\/[^/?]*(\?|$)/, `/${target}_owners$1`), '-Atc', "SELECT tableowner FROM pg_tables WHERE tablename = 'customers'"], { stdio: 'pipe' });
    assert.equal(owner.toString().trim(), 'restorer_e2e');
    await dialog.getByRole('button', { name: 'Close' }).click();
  });

  test('a role the backup needs is missing on the target: named, and created from the roles saved with the backup when chosen', async () => {
    const admin = new URL(env.E2E_PG_ADMIN_URL);
    const password = decodeURIComponent(admin.password);
    execFileSync(psql, [env.E2E_PG_ADMIN_URL.replace(/\/[^/?]*(\?|$)/, `/${env.E2E_PG_DB}$1`), '-qc', 'CREATE ROLE e2e_auditors NOLOGIN; GRANT SELECT ON customers TO e2e_auditors'], { stdio: 'pipe' });
    await page.getByRole('button', { name: 'Back up now' }).click();
    await until('the second backup', async () => (await page.locator('[data-testid="backup-row"][data-status="succeeded"]').count()) >= 2, 60_000);
    // The role goes away after the backup, as on a new server.
    execFileSync(psql, [env.E2E_PG_ADMIN_URL.replace(/\/[^/?]*(\?|$)/, `/${env.E2E_PG_DB}$1`), '-qc', 'REVOKE ALL ON customers FROM e2e_auditors; DROP ROLE e2e_auditors'], { stdio: 'pipe' });
    await page.locator('[data-testid="backup-row"][data-status="succeeded"]').first().getByRole('button', { name: /Actions for the backup/ }).click();
    await page.getByRole('menuitem', { name: 'Restore…' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByLabel('User with write access').fill(decodeURIComponent(admin.username));
    await dialog.getByLabel('Password', { exact: true }).fill(password);
    await dialog.getByLabel('New database (must not exist yet)').fill(`${target}_roles`);
    await dialog.getByRole('button', { name: 'Continue' }).click();
    await dialog.getByRole('button', { name: 'Restore', exact: true }).click();
    const headline = dialog.getByTestId('restore-roles-headline');
    await headline.waitFor({ timeout: 120_000 });
    assert.match(await headline.innerText(), /^1 role the backup needs is missing on the target: e2e_auditors\. Nothing was written\. Choose how to go on:/);
    assert.equal(await dialog.getByRole('radio', { name: /Create it \(without passwords, unable to log in\)/ }).isChecked(), true);
    await page.setViewportSize({ width: 900, height: 600 });
    await page.screenshot({ path: join(shots, 'restore-roles.png') });
    await page.emulateMedia({ colorScheme: 'dark' });
    await page.screenshot({ path: join(shots, 'restore-roles-dark.png') });
    await page.emulateMedia({ colorScheme: 'light' });
    await page.setViewportSize({ width: 1100, height: 760 });
    await dialog.getByRole('button', { name: 'Restore again this way' }).click();
    const done = dialog.getByTestId('restore-finished');
    await done.waitFor({ timeout: 120_000 });
    assert.equal(await dialog.getByTestId('restore-roles-created').innerText(), 'Created on the target, without passwords and unable to log in: e2e_auditors.');
    const role = execFileSync(psql, [env.E2E_PG_ADMIN_URL.replace(/\/[^/?]*(\?|$)/, `/${target}_roles$1`), '-Atc',
      "SELECT rolcanlogin::text || ' ' || has_table_privilege('e2e_auditors', 'customers', 'SELECT')::text FROM pg_roles WHERE rolname = 'e2e_auditors'"], { stdio: 'pipe' });
    assert.equal(role.toString().trim(), 'false true');
    assert.ok(!(await page.content()).includes(password), 'the write password is on the page');
    await dialog.getByRole('button', { name: 'Close' }).click();
  });

  test('no unexpected page errors', () => {
    assert.deepEqual(s.pageErrors, []);
  });
});
