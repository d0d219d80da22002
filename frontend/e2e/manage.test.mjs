// End-to-end: managing a database from its page, against the real backend,
// PostgreSQL and keychain the Go harness starts (backend/internal/e2e; the
// E2E_PG_* variables as in wizard.test.mjs). Its own role (manage_e2e) and
// its own settings folder: the role's password is changed on the server,
// the re-check and the edit dialog refuse a wrong password and save the
// right one, then the database is renamed and removed.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { dismissWelcome, fillConnection, repo, startSession } from './harness.mjs';

const env = process.env;
const shots = join(repo, 'docs/screenshots');
const psql = '/usr/lib/postgresql/15/bin/psql';
const sql = (q) => execFileSync(psql, [env.E2E_PG_ADMIN_URL, '-qc', q], { stdio: 'pipe' });
const role = 'manage_e2e';
const firstPw = 'manage-e2e-pw-1807';
const newPw = 'manage-e2e-pw-rotated-5520';
const switchedRole = 'manage_e2e_ro';
let s;
let page;
let folder;

const go = (service, method, ...args) => page.evaluate(([sv, m, a]) => window.go.ui[sv][m](...a), [service, method, args]);
const panel = () => page.getByTestId('manage-database');

async function shot(name) {
  await page.screenshot({ path: join(shots, `${name}.png`) });
  await page.emulateMedia({ colorScheme: 'dark' });
  await page.screenshot({ path: join(shots, `${name}-dark.png`) });
  await page.emulateMedia({ colorScheme: 'light' });
}

describe('manage a database from its page', () => {
  before(async () => {
    assert.ok(env.E2E_PG_ADMIN_URL && env.E2E_PG_HOST, 'run through `make test-e2e`, which starts the servers');
    sql(`DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '${role}') THEN CREATE ROLE ${role} LOGIN; END IF; END $$;
         ALTER ROLE ${role} PASSWORD '${firstPw}'; GRANT SELECT ON customers, orders TO ${role};`);
    folder = mkdtempSync(join(tmpdir(), 'pgsafe-e2e-manage-'));
    s = await startSession({ viewport: { width: 900, height: 600 } });
    page = s.page;
    await dismissWelcome(page);
    await page.waitForFunction(async () => (await window.go.ui.SystemService.KeyStatus()).ready === true, null, { timeout: 60_000, polling: 250 });
    await go('StorageService', 'Add', { name: 'Disk', kind: 'local', path: folder });
  });

  after(async () => {
    try {
      await s?.stop();
    } finally {
      rmSync(folder, { recursive: true, force: true });
      sql(`DROP OWNED BY ${role}; DROP ROLE IF EXISTS ${role};
           DO $$ BEGIN IF EXISTS (SELECT FROM pg_roles WHERE rolname = '${switchedRole}') THEN EXECUTE 'DROP OWNED BY ${switchedRole}'; END IF; END $$;
           DROP ROLE IF EXISTS ${switchedRole};`);
    }
  });

  test('added through the wizard, its page shows the connection and the role’s verdict', async () => {
    await page.getByRole('button', { name: 'Add database' }).click();
    const dialog = page.getByRole('dialog');
    await fillConnection(page, dialog, { name: 'Manage me', user: role, password: firstPw });
    await dialog.getByRole('button', { name: 'Save database' }).click({ timeout: 30_000 });
    const card = page.locator('[data-testid="database-card"][data-name="Manage me"]');
    await card.waitFor({ timeout: 30_000 });
    await go('StorageService', 'SetDatabaseStorages', 'Manage me', ['Disk']);
    await card.getByRole('button', { name: 'Backups' }).click();
    await panel().scrollIntoViewIfNeeded();
    assert.match(await panel().getByTestId('connection-line').innerText(), new RegExp(`${role}@.*:${env.E2E_PG_PORT}/${env.E2E_PG_DB}.*password stored \\(never shown\\)`));
    assert.match(await panel().getByTestId('role-verdict').getAttribute('data-verdict'), /^read_only/);
    assert.equal(await page.getByTestId('write-access-warning').count(), 0);
  });

  test('after a password change on the server: the re-check and a wrong password fail with the reason, the right one is saved', async () => {
    sql(`ALTER ROLE ${role} PASSWORD '${newPw}'`);
    await panel().getByRole('button', { name: 'Re-check privileges' }).click();
    const problem = panel().getByRole('alert');
    await problem.waitFor({ timeout: 30_000 });
    assert.match(await problem.innerText(), /password authentication failed/i);

    await panel().getByRole('button', { name: 'Edit connection…' }).click();
    const dialog = page.getByRole('dialog', { name: 'Edit the connection of Manage me' });
    assert.equal(await dialog.getByLabel('Host').inputValue(), env.E2E_PG_HOST);
    assert.equal(await dialog.getByLabel('User').inputValue(), role);
    const pw = dialog.getByLabel('Password', { exact: true });
    assert.equal(await pw.inputValue(), '', 'the stored password came back to the window');
    assert.equal(await pw.getAttribute('placeholder'), 'leave empty to keep the stored password');
    await pw.fill('not-the-password-1');
    await dialog.getByRole('button', { name: 'Test and check privileges' }).click();
    const refused = dialog.getByRole('alert');
    await refused.waitFor({ timeout: 30_000 });
    assert.match(await refused.innerText(), /password authentication failed/i);
    assert.equal(await dialog.getByTestId('server-info').count(), 0);

    // The right password, pasted as a URL: the window shows host and database, never the password.
    await dialog.getByText('Paste a URL').click();
    await dialog.getByLabel('Connection URL').fill(`postgres://${role}:${newPw}@${env.E2E_PG_HOST}:${env.E2E_PG_PORT}/${env.E2E_PG_DB}?sslmode=disable`);
    const summary = await dialog.getByTestId('url-summary').innerText();
    assert.match(summary, new RegExp(`Host ${env.E2E_PG_HOST}:${env.E2E_PG_PORT} · database ${env.E2E_PG_DB} · user ${role} · password ••••••`));
    assert.ok(!(await dialog.innerText()).includes(newPw), 'the pasted password is shown');
    await dialog.getByRole('button', { name: 'Test and check privileges' }).click();
    await dialog.getByTestId('server-info').waitFor({ timeout: 30_000 });
    assert.match(await dialog.getByTestId('verdict').getAttribute('data-verdict'), /^read_only/);
    await shot('manage-edit-900');
    await dialog.getByRole('button', { name: 'Save connection' }).click();
    await dialog.waitFor({ state: 'detached', timeout: 30_000 });

    // Saved: a backup works again, and the re-check passes.
    await page.getByRole('button', { name: 'Back up now' }).click();
    await page.locator('[data-testid="backup-row"][data-status="succeeded"]').waitFor({ timeout: 60_000 });
    await panel().getByRole('button', { name: 'Re-check privileges' }).click();
    await panel().getByTestId('recheck-result').waitFor({ timeout: 30_000 });
    assert.equal(await panel().getByRole('alert').count(), 0);
    await panel().scrollIntoViewIfNeeded();
    await shot('manage-panel-900');
    const text = await page.locator('body').innerText();
    for (const secret of [firstPw, newPw]) assert.ok(!text.includes(secret), 'a password is on the page');
  });

  test('write access found by a re-check is a visible warning, and “Switch to a read-only role” ends it', async () => {
    sql(`GRANT INSERT ON orders TO ${role}`);
    await panel().getByRole('button', { name: 'Re-check privileges' }).click();
    const warning = page.getByTestId('write-access-warning');
    await warning.waitFor({ timeout: 30_000 });
    assert.equal(await warning.getAttribute('data-write-access'), 'found');
    assert.equal(await panel().getByTestId('role-verdict').getAttribute('data-verdict'), 'write_access');
    await warning.scrollIntoViewIfNeeded();
    await shot('manage-write-access-900');
    await warning.getByRole('button', { name: 'Switch to a read-only role' }).click();
    const dialog = page.getByRole('dialog', { name: 'Switch Manage me to a read-only role' });
    await dialog.getByLabel('Administrator URL').fill(env.E2E_PG_ADMIN_URL);
    await dialog.getByLabel('New role').fill(switchedRole);
    await dialog.getByRole('button', { name: 'Create role and use it' }).click();
    await dialog.getByTestId('switched').waitFor({ timeout: 30_000 });
    assert.match(await dialog.getByTestId('verdict').getAttribute('data-verdict'), /^read_only/);
    await dialog.getByRole('button', { name: 'Done' }).click();
    await warning.waitFor({ state: 'detached', timeout: 30_000 });
    assert.match(await panel().getByTestId('connection-line').innerText(), new RegExp(`^${switchedRole}@`));
    assert.ok(!(await page.content()).includes(decodeURIComponent(new URL(env.E2E_PG_ADMIN_URL).password)), 'the admin password is on the page');
  });

  test('renamed, the page follows; removed after typing its name, the card is gone from Overview', async () => {
    await panel().getByRole('button', { name: 'Rename…' }).click();
    let dialog = page.getByRole('dialog', { name: 'Rename Manage me' });
    await dialog.getByLabel('New name').fill('Manage me too');
    await dialog.getByRole('button', { name: 'Rename' }).click();
    await page.getByRole('heading', { level: 1, name: 'Manage me too' }).waitFor({ timeout: 30_000 });
    // The history follows the database: the backup made before the rename is still listed.
    assert.ok((await page.locator('[data-testid="backup-row"][data-status="succeeded"]').count()) >= 1);

    await panel().getByRole('button', { name: 'Remove…' }).click();
    dialog = page.getByRole('dialog', { name: 'Remove Manage me too from PgSafe?' });
    assert.match(await dialog.innerText(), /Its backups stay in your storages/);
    const remove = dialog.getByRole('button', { name: 'Remove Manage me too' });
    assert.ok(await remove.isDisabled(), 'Remove is offered before the name is typed');
    await dialog.getByLabel('Type the database’s name to confirm').fill('Manage me too');
    await shot('manage-remove-900');
    await remove.click();
    await page.getByRole('button', { name: 'Add database' }).first().waitFor({ timeout: 30_000 });
    assert.equal(await page.locator('[data-testid="database-card"]').count(), 0);
    const rows = await go('DatabaseService', 'List');
    assert.deepEqual(rows ?? [], []);
  });

  test('no unexpected page errors', () => {
    assert.deepEqual(s.pageErrors, [], `page errors:\n${s.pageErrors.join('\n')}`);
    assert.deepEqual(s.consoleErrors, [], `console errors:\n${s.consoleErrors.join('\n')}`);
  });
});
