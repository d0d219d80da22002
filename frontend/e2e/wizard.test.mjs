// End-to-end with real parts: a throwaway PostgreSQL cluster and a private
// Secret Service keychain started by the Go harness (backend/internal/e2e,
// `make test-e2e`), which passes them in the environment:
//   E2E_PG_HOST, E2E_PG_PORT, E2E_PG_DB       the cluster and its database
//   E2E_PG_READER, E2E_PG_READER_PASSWORD     a role with SELECT only
//   E2E_PG_ADMIN_URL                          the superuser's URL
// The app creates its master key in that keychain on first start.
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { dismissWelcome, fillConnection, repo, startSession } from './harness.mjs';

const env = process.env;
const need = ['E2E_PG_HOST', 'E2E_PG_PORT', 'E2E_PG_DB', 'E2E_PG_READER', 'E2E_PG_READER_PASSWORD', 'E2E_PG_ADMIN_URL'];
const shots = join(repo, 'docs/screenshots');
let s;
let page;

describe('Add database wizard against a real PostgreSQL and keychain', () => {
  before(async () => {
    const missing = need.filter((k) => !env[k]);
    assert.deepEqual(missing, [], 'run through `make test-e2e` (go test -tags e2e ./backend/internal/e2e), which starts PostgreSQL and a keychain');
    s = await startSession({ viewport: { width: 1100, height: 760 } });
    page = s.page;
    await dismissWelcome(page);
    // The master key opens in the background: wait until the Go side says so.
    await page.waitForFunction(async () => (await window.go.ui.SystemService.KeyStatus()).ready === true, null, { timeout: 60_000, polling: 250 });
  });

  after(async () => {
    await s?.stop();
  });

  test('a read-only role is checked and saved', async () => {
    await page.getByRole('button', { name: 'Add database' }).click();
    const dialog = page.getByRole('dialog');
    await fillConnection(page, dialog, { name: 'Shop (reader)', user: env.E2E_PG_READER, password: env.E2E_PG_READER_PASSWORD });
    const verdict = dialog.getByTestId('verdict');
    await verdict.waitFor({ timeout: 30_000 });
    assert.match(await verdict.getAttribute('data-verdict'), /^read_only/);
    assert.match(await dialog.getByTestId('server-info').innerText(), /PostgreSQL 15\.\d+, database shop/);
    await dialog.getByRole('button', { name: 'Save database' }).click();
    await page.locator('[data-testid="database-card"][data-name="Shop (reader)"]').waitFor({ timeout: 30_000 });
  });

  test('a superuser is flagged, and the guided setup creates and saves a read-only role', async () => {
    const admin = new URL(env.E2E_PG_ADMIN_URL);
    await page.getByRole('button', { name: 'Add database' }).click();
    const dialog = page.getByRole('dialog');
    await fillConnection(page, dialog, { name: 'Shop', user: decodeURIComponent(admin.username), password: decodeURIComponent(admin.password) });
    const verdict = dialog.getByTestId('verdict');
    await verdict.waitFor({ timeout: 30_000 });
    assert.equal(await verdict.getAttribute('data-verdict'), 'write_access');
    assert.ok((await dialog.getByTestId('finding').count()) > 0, 'no findings listed for a superuser');
    assert.ok(await dialog.getByRole('button', { name: 'Save database' }).isDisabled(), 'a write-capable role can be saved without the deliberate switch');
    mkdirSync(shots, { recursive: true });
    await page.screenshot({ path: join(shots, 'wizard-audit.png') });

    await dialog.getByLabel('Administrator URL').fill(env.E2E_PG_ADMIN_URL);
    await dialog.getByLabel('New role').fill('pgsafe_backup');
    await dialog.getByRole('button', { name: 'Show SQL' }).click();
    const sql = await dialog.getByTestId('role-sql').innerText({ timeout: 30_000 });
    assert.match(sql, /CREATE ROLE "?pgsafe_backup"?/);
    await dialog.getByRole('button', { name: 'Create role and use it' }).click();
    await dialog.getByText('Role pgsafe_backup created and saved as “Shop”').waitFor({ timeout: 30_000 });
    assert.match(await dialog.getByTestId('verdict').getAttribute('data-verdict'), /^read_only/);
    await dialog.getByRole('button', { name: 'Done' }).click();
    const card = page.locator('[data-testid="database-card"][data-name="Shop"]');
    await card.waitFor({ timeout: 30_000 });
    assert.match(await card.innerText(), /pgsafe_backup@/);
    await dialog.waitFor({ state: 'hidden' });
    await page.screenshot({ path: join(shots, 'overview-databases.png') });
  });

  test('no password is ever shown back', async () => {
    const text = await page.locator('body').innerText();
    const admin = new URL(env.E2E_PG_ADMIN_URL);
    for (const secret of [env.E2E_PG_READER_PASSWORD, decodeURIComponent(admin.password)]) {
      assert.ok(!text.includes(secret), 'a password is visible on the page');
    }
  });

  test('Activity lists what happened and the log verifies intact', async () => {
    await page.getByRole('navigation', { name: 'Places' }).getByRole('button', { name: 'Activity' }).click();
    const rows = page.getByTestId('activity-row');
    await rows.first().waitFor({ timeout: 20_000 });
    const actions = await rows.evaluateAll((els) => els.map((e) => e.getAttribute('data-action')));
    for (const a of ['app.started', 'database.created', 'database.readonly_role_created']) {
      assert.ok(actions.includes(a), `activity lacks ${a}: ${actions}`);
    }
    await page.getByRole('button', { name: 'Verify log' }).click();
    const result = page.getByTestId('verify-result');
    await result.waitFor({ timeout: 20_000 });
    assert.match(await result.innerText(), /The log is intact/);
    await page.screenshot({ path: join(shots, 'activity.png') });
  });

  test('no unexpected page errors', () => {
    assert.deepEqual(s.pageErrors, [], `page errors:\n${s.pageErrors.join('\n')}`);
    assert.deepEqual(s.consoleErrors, [], `console errors:\n${s.consoleErrors.join('\n')}`);
  });
});
