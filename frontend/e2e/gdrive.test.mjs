// End-to-end: Google Drive through the real sign-in flow, against the Go
// harness's fake Google (backend/internal/testenv/fakegoogle: no real Google
// can be reached here; E2E_GOOGLE_URL). The user adds a storage with "Sign in
// with Google"; the provider's page opens in the browser (Wails'
// BrowserOpenURL, caught here and opened in a tab as the system browser
// would), the user clicks "Allow", the storage appears and a backup to it
// succeeds. Then the grant is revoked at Google: the next backup fails and
// the Overview says "Sign in to Google Drive again"; its button signs in
// again and backs up. Captured light and dark at 900×600
// (docs/screenshots/storages-gdrive-*-900-*.png).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { dismissWelcome, repo, startSession, until } from './harness.mjs';

const env = process.env;
const shots = join(repo, 'docs/screenshots');
const psql = '/usr/lib/postgresql/15/bin/psql';
const sql = (q) => execFileSync(psql, [env.E2E_PG_ADMIN_URL, '-qc', q], { stdio: 'pipe' });
const role = ['gd_shop_reader', 'gd-shop-pw-5170'];
let s;
let page;

const place = (name) => page.getByRole('navigation', { name: 'Places' }).getByRole('button', { name }).click();
const go = (service, method, ...args) => page.evaluate(([sv, m, a]) => window.go.ui[sv][m](...a), [service, method, args]);

/** Both colour schemes of the page as it is now. */
async function shoot(name) {
  for (const scheme of ['light', 'dark']) {
    await page.emulateMedia({ colorScheme: scheme });
    await page.screenshot({ path: join(shots, `${name}-900-${scheme}.png`) });
  }
  await page.emulateMedia({ colorScheme: 'light' });
}

/** The system browser: the URLs the window asks it to open are kept for the test to open (again after each reload). */
const catchBrowser = () =>
  page.evaluate(() => {
    window.__opened = [];
    window.runtime.BrowserOpenURL = (u) => window.__opened.push(u);
  });

/** The URL the window asked the system browser to open next (BrowserOpenURL is caught). */
async function nextOpened() {
  return until('the window to open the sign-in page in the browser', () => page.evaluate(() => window.__opened?.shift()), 30_000);
}

/** What the user does in the system browser: open Google's page and click Allow. */
async function approveInBrowser(url) {
  assert.ok(url.startsWith(env.E2E_GOOGLE_URL + '/o/oauth2/v2/auth?'), `the window opened ${url}`);
  const q = new URL(url).searchParams;
  assert.equal(q.get('code_challenge_method'), 'S256');
  assert.match(q.get('redirect_uri'), /^http:\/\/127\.0\.0\.1:\d+\/$/);
  const tab = await s.context.newPage();
  try {
    await tab.goto(url);
    await tab.getByRole('heading', { name: 'PgSafe wants to access your Google Account' }).waitFor();
    await tab.getByRole('link', { name: 'Allow' }).click();
    await tab.getByRole('heading', { name: 'PgSafe is signed in to Google Drive' }).waitFor({ timeout: 30_000 });
  } finally {
    await tab.close();
  }
}

describe('Google Drive: sign in through the browser, back up, sign in again', () => {
  before(async () => {
    assert.ok(env.E2E_GOOGLE_URL && env.E2E_GOOGLE_CLIENT_ID && env.E2E_PG_HOST, 'run through `make test-e2e`, which starts the servers and the fake Google');
    sql(`DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '${role[0]}') THEN CREATE ROLE ${role[0]} LOGIN; END IF; END $$;
         ALTER ROLE ${role[0]} PASSWORD '${role[1]}'; GRANT SELECT ON customers, orders TO ${role[0]};`);
    s = await startSession({ viewport: { width: 900, height: 600 }, env: { PGSAFE_OAUTH_BASE_GDRIVE: env.E2E_GOOGLE_URL } });
    page = s.page;
    await dismissWelcome(page);
    await page.waitForFunction(async () => (await window.go.ui.SystemService.KeyStatus()).ready === true, null, { timeout: 60_000, polling: 250 });
    await catchBrowser();
    // This build has no Google client ID: the user's own, saved in Settings
    // (clouddrives.test.mjs goes through that panel; here it is a given).
    await go('StorageService', 'SetOAuthClient', { kind: 'gdrive', clientId: env.E2E_GOOGLE_CLIENT_ID, clientSecret: '' });
  });

  after(async () => {
    try {
      await s?.stop();
    } finally {
      sql(`REVOKE ALL ON customers, orders FROM ${role[0]}; DROP ROLE IF EXISTS ${role[0]};`);
    }
  });

  test('"Sign in with Google" adds the storage; a backup goes to Drive; a revoked grant says "sign in again" and its button fixes it', async () => {
    await place('Storages');
    await page.getByRole('button', { name: 'Add storage' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByText('Google Drive', { exact: true }).click();
    await dialog.getByLabel('Name').fill('My Drive');
    await dialog.getByLabel('Folder in your Google Drive').fill('Backups/PgSafe');
    await dialog.getByText(`It signs in with your own client (${env.E2E_GOOGLE_CLIENT_ID}), from Settings.`).waitFor();
    await shoot('storages-gdrive-form');
    await dialog.getByRole('button', { name: 'Sign in with Google' }).click();
    const url = await nextOpened();
    await dialog.getByTestId('signin-waiting').waitFor();
    await shoot('storages-gdrive-waiting');
    await approveInBrowser(url);
    const row = page.locator('[data-testid="storage-row"][data-name="My Drive"]');
    await row.waitFor({ timeout: 60_000 });
    await dialog.waitFor({ state: 'detached' });
    assert.match(await row.innerText(), /Google Drive: Backups\/PgSafe \(backup\.owner@example\.com\)/);
    await shoot('storages-gdrive-added');

    // Cancel while waiting: the dialog stops waiting and says nothing went wrong.
    await page.getByRole('button', { name: 'Add storage' }).click();
    await dialog.getByText('Google Drive', { exact: true }).click();
    await dialog.getByLabel('Name').fill('Second Drive');
    await dialog.getByRole('button', { name: 'Sign in with Google' }).click();
    await nextOpened();
    await dialog.getByTestId('signin-waiting').waitFor();
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await dialog.getByTestId('signin-waiting').waitFor({ state: 'detached', timeout: 30_000 });
    assert.equal(await dialog.getByRole('alert').count(), 0, 'a cancelled sign-in shows an error');
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await dialog.waitFor({ state: 'detached' });
    assert.equal(await page.locator('[data-testid="storage-row"][data-name="Second Drive"]').count(), 0);

    // A database backed up to it.
    await go('DatabaseService', 'Add', { name: 'Shop', host: env.E2E_PG_HOST, port: Number(env.E2E_PG_PORT), dbname: env.E2E_PG_DB, user: role[0], password: role[1], sslmode: 'disable', storages: ['My Drive'], countRows: true }, false);
    await page.reload({ waitUntil: 'domcontentloaded' }); // as the other browser tests do after adding through the API
    await page.waitForFunction(async () => (await window.go.ui.SystemService.KeyStatus()).ready === true, null, { timeout: 60_000, polling: 250 });
    await catchBrowser();
    await place('Overview');
    const card = page.locator('[data-testid="database-card"][data-name="Shop"]');
    await card.getByTestId('card-fix').filter({ hasText: 'Back up now' }).click();
    await until('the backup to Google Drive to succeed', async () => (await card.getAttribute('data-state')) !== 'unprotected' && (await card.getByText('Backing up…').count()) === 0, 120_000);
    assert.notEqual(await card.getAttribute('data-state'), 'failing', await card.innerText());

    // Google revokes the grant (the user removed PgSafe from their account).
    const r = await fetch(env.E2E_GOOGLE_URL + '/fake/revoke', { method: 'POST' });
    assert.equal(r.status, 204);
    await card.getByRole('button', { name: 'Back up Shop now' }).click();
    const fix = card.getByTestId('card-fix').filter({ hasText: 'Sign in again…' });
    await fix.waitFor({ timeout: 120_000 });
    assert.equal(await card.getAttribute('data-state'), 'failing');
    assert.match(await card.innerText(), /Sign in to Google Drive again/);
    await shoot('overview-gdrive-sign-in-again');

    // Its button signs in again in the browser, then backs up: the reason goes.
    await fix.click();
    await approveInBrowser(await nextOpened());
    await until('the card to stop asking to sign in again', async () => (await card.getByText('Sign in to Google Drive again').count()) === 0 && (await card.getAttribute('data-state')) !== 'failing', 120_000);
  });
});
