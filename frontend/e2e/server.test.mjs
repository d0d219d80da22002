// End-to-end: a server entry. The wizard adds "every database on this
// server" with exclusions; the Overview shows it as one card with its
// databases inside, each in its state's colour with its reason; a database
// the role can no longer connect to turns its row red and the card with it;
// a dropped one stays, saying its backups are kept; one created between two
// backups is marked new; a row opens that database's page. Captured light and dark at 900×600
// (docs/screenshots/overview-server-900-*.png).
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
const sql = (q, db) => {
  const url = new URL(env.E2E_PG_ADMIN_URL);
  if (db) url.pathname = '/' + db;
  return execFileSync(psql, [url.toString(), '-qAtc', q], { stdio: 'pipe', encoding: 'utf8' });
};
const [role, password] = ['srv_reader', 'srv-reader-pw-6612'];
const mine = ['srv_app', 'srv_crm', 'srv_old', 'srv_secret'];
const later = 'srv_new'; // created between the two backups
let s;
let page;
let folder;

const card = () => page.locator('[data-testid="database-card"][data-name="Production"]');
const row = (db) => card().locator(`[data-testid="server-database"][data-name="Production/${db}"]`);
const go = (service, method, ...args) => page.evaluate(([sv, m, a]) => window.go.ui[sv][m](...a), [service, method, args]);

describe('A server entry', () => {
  before(async () => {
    assert.ok(env.E2E_PG_ADMIN_URL && env.E2E_PG_HOST, 'run through `make test-e2e`, which starts the servers');
    sql(`DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '${role}') THEN CREATE ROLE ${role} LOGIN; END IF; END $$;
         ALTER ROLE ${role} PASSWORD '${password}'; GRANT pg_read_all_data TO ${role};`);
    sql(`DROP DATABASE IF EXISTS ${later}`);
    for (const db of mine) {
      sql(`DROP DATABASE IF EXISTS ${db}`);
      sql(`CREATE DATABASE ${db}`);
      sql(`CREATE TABLE items (id int PRIMARY KEY); INSERT INTO items SELECT generate_series(1, 100);`, db);
    }
    folder = mkdtempSync(join(tmpdir(), 'pgsafe-e2e-server-'));
    s = await startSession({ viewport: { width: 900, height: 600 } });
    page = s.page;
    await dismissWelcome(page);
    await page.waitForFunction(async () => (await window.go.ui.SystemService.KeyStatus()).ready === true, null, { timeout: 60_000, polling: 250 });
    await go('StorageService', 'Add', { name: 'Local disk', kind: 'local', path: folder });
    // A recovery kit saved (kit.test.mjs tests that path), so that a verified database is protected.
    await go('SystemService', 'ExportRecoveryKit', await go('SystemService', 'GeneratePassphrase'), join(folder, 'kit.txt'));
  });

  after(async () => {
    try {
      await s?.stop();
    } finally {
      for (const db of [...mine, later]) sql(`DROP DATABASE IF EXISTS ${db}`);
      sql(`DROP ROLE IF EXISTS ${role}`);
      if (folder) rmSync(folder, { recursive: true, force: true });
    }
  });

  test('the wizard adds every database on the server, leaving out the ones named', async () => {
    // The other test files' databases on this shared cluster are left out.
    const others = sql(`SELECT datname FROM pg_database WHERE NOT datistemplate ORDER BY 1`).split('\n').filter((n) => n && !mine.includes(n));
    await page.getByRole('button', { name: 'Add database' }).first().click();
    const dialog = page.getByRole('dialog');
    await dialog.getByLabel('Back up every database on this server').check();
    const tags = dialog.getByLabel('Leave out these databases');
    for (const name of others) {
      await tags.fill(name);
      await tags.press('Enter');
    }
    await fillConnection(page, dialog, { name: 'Production', user: role, password, db: 'postgres' });
    await dialog.getByTestId('verdict').waitFor({ timeout: 30_000 });
    await dialog.getByRole('button', { name: 'Save database' }).click();
    await card().waitFor({ timeout: 30_000 });
    assert.equal(await card().getAttribute('data-server'), 'true');
    assert.match(await card().getByTestId('server-databases').innerText(), /appear here after the first backup/);
    const [entry] = (await go('DatabaseService', 'List')).filter((d) => d.name === 'Production');
    assert.deepEqual([...entry.exclude].sort(), [...others].sort());
    // Its storage (the wizard has no storage step): set as its page would, then read again.
    await go('StorageService', 'SetDatabaseStorages', 'Production', ['Local disk']);
    await page.reload({ waitUntil: 'domcontentloaded' });
    await card().getByRole('button', { name: 'Back up Production now' }).and(page.locator(':enabled')).waitFor({ timeout: 30_000 });
  });

  test('one card with its databases inside: a failing one turns it red, a dropped one keeps its backups, a new one says so', async () => {
    await card().getByRole('button', { name: 'Back up Production now' }).click();
    for (const db of mine) await row(db).waitFor({ timeout: 120_000 });
    await card().locator(':scope[data-state="attention"]').waitFor({ timeout: 60_000 }); // never verified yet
    assert.equal(await card().getByTestId('server-database-new').count(), 0, 'at the first backup every database is new: none is marked');
    // The newest backup of srv_app verified: that row turns green.
    const [latest] = await go('BackupService', 'List', 'Production/srv_app', 1);
    await go('RestoreService', 'Verify', latest.id);
    // Between two runs: srv_old is dropped, and the role loses srv_secret.
    sql(`DROP DATABASE srv_old`);
    sql(`REVOKE CONNECT ON DATABASE srv_secret FROM PUBLIC`);
    sql(`CREATE DATABASE ${later}`);
    sql(`CREATE TABLE items (id int PRIMARY KEY); INSERT INTO items VALUES (1);`, later);
    await card().getByRole('button', { name: 'Back up Production now' }).click();
    await row('srv_secret').locator(':scope[data-state="failing"]').waitFor({ timeout: 120_000 });
    await card().locator(':scope[data-state="failing"]').waitFor({ timeout: 30_000 });
    assert.equal(await row('srv_app').getAttribute('data-state'), 'protected');
    assert.equal(await row('srv_old').getAttribute('data-state'), 'attention');
    assert.match(await row('srv_old').innerText(), /no longer on the server.*backups are kept/i);
    assert.match(await row('srv_secret').innerText(), /permission denied|connect/i);
    // The new database is in the run, and marked new; the others are not.
    await row(later).locator(':scope[data-new="true"]').waitFor({ timeout: 30_000 });
    assert.equal(await row(later).getByTestId('server-database-new').innerText(), 'new');
    assert.match(await row(later).getAttribute('aria-label'), /new on the server, included in the last backup/);
    assert.equal(await card().getByTestId('server-database-new').count(), 1);
    assert.match(await card().getByTestId('state-line').innerText(), /Failing: 4 of 5 databases need a look/);
    assert.match(await page.getByTestId('failing-banner').innerText(), /Production is not being backed up safely/);
    for (const scheme of ['light', 'dark']) {
      await page.emulateMedia({ colorScheme: scheme });
      await page.screenshot({ path: join(shots, `overview-server-900-${scheme}.png`) });
    }
    await page.emulateMedia({ colorScheme: 'light' });
    // A row opens that database's page.
    await row('srv_crm').click();
    await page.getByRole('heading', { name: 'Production/srv_crm' }).waitFor({ timeout: 10_000 });
  });

  test('no password is on the page, and no unexpected page errors', async () => {
    const html = await page.content();
    assert.ok(!html.includes(password), 'a password is on the page');
    assert.deepEqual(s.pageErrors, []);
  });
});
