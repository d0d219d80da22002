// End-to-end: a database whose connection comes from a credentials command
// (issue 16, part 3), through the window against the harness's real
// PostgreSQL: added in the wizard with "From a command", backed up, then the
// command starts failing and the card says so in the command's own words.
// The command line and what it prints never show on the page.
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { dismissWelcome, repo, startSession } from './harness.mjs';

const env = process.env;
const shots = join(repo, 'docs/screenshots');
let s;
let page;
let dir;
let script;

const go = (service, method, ...args) => page.evaluate(([sv, m, a]) => window.go.ui[sv][m](...a), [service, method, args]);
const card = (name) => page.locator(`[data-testid="database-card"][data-name="${name}"]`);

async function shoot(name) {
  await page.emulateMedia({ colorScheme: 'light' });
  await page.screenshot({ path: join(shots, `${name}-900-light.png`) });
  await page.emulateMedia({ colorScheme: 'dark' });
  await page.screenshot({ path: join(shots, `${name}-900-dark.png`) });
  await page.emulateMedia({ colorScheme: 'light' });
}

describe('credentials command, through the window', () => {
  before(async () => {
    assert.ok(env.E2E_PG_HOST && env.E2E_PG_READER_PASSWORD, 'run through `make test-e2e`, which starts the servers');
    dir = mkdtempSync(join(tmpdir(), 'pgsafe-e2e-credcmd-'));
    const url = `postgres://${env.E2E_PG_READER}:${encodeURIComponent(env.E2E_PG_READER_PASSWORD)}@${env.E2E_PG_HOST}:${env.E2E_PG_PORT}/${env.E2E_PG_DB}?sslmode=disable`;
    writeFileSync(join(dir, 'url'), `${url}\n`, { mode: 0o600 });
    script = join(dir, 'print-credentials.sh');
    writeFileSync(script, `#!/bin/sh\ncat '${join(dir, 'url')}'\n`);
    chmodSync(script, 0o700);
    s = await startSession({ viewport: { width: 900, height: 600 } });
    page = s.page;
    await dismissWelcome(page);
    await page.waitForFunction(async () => (await window.go.ui.SystemService.KeyStatus()).ready === true, null, { timeout: 60_000, polling: 250 });
    mkdirSync(join(dir, 'backups'));
    await go('StorageService', 'Add', { name: 'Command disk', kind: 'local', path: join(dir, 'backups') });
  });

  after(async () => {
    try {
      await s?.stop();
    } finally {
      if (dir) rmSync(dir, { recursive: true, force: true });
    }
  });

  test('added with "From a command", checked and saved; its card says where the connection comes from', async () => {
    await page.getByRole('button', { name: 'Add database' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByLabel('Name in PgSafe').fill('Heroku app');
    await dialog.getByText('From a command', { exact: true }).click();
    await dialog.getByLabel('Command that prints the connection').fill(`${script} --app heroku-app`);
    await shoot('database-credentials-command');
    await dialog.getByRole('button', { name: 'Test and check privileges' }).click();
    const verdict = dialog.getByTestId('verdict');
    await verdict.waitFor({ timeout: 30_000 });
    assert.match(await verdict.getAttribute('data-verdict'), /^read_only/);
    await dialog.getByRole('button', { name: 'Save database' }).click();
    await card('Heroku app').waitFor({ timeout: 30_000 });
    assert.match(await card('Heroku app').innerText(), /connection from a command/);
  });

  test('Back up now runs the command and backs up', async () => {
    await card('Heroku app').getByRole('button', { name: 'Backups' }).click();
    await page.getByRole('main').getByLabel('Storages').click();
    await page.getByRole('option', { name: 'Command disk' }).click();
    await page.keyboard.press('Escape');
    await page.getByRole('button', { name: 'Save', exact: true }).click();
    await page.getByRole('button', { name: 'Saved ✓' }).waitFor();
    await page.getByRole('button', { name: 'Back up now' }).click();
    await page.locator('[data-testid="backup-row"][data-status="succeeded"]').waitFor({ timeout: 60_000 });
  });

  test('a command that fails turns the card red with the command\'s own words', async () => {
    writeFileSync(script, '#!/bin/sh\necho "vault: permission denied (token expired)" >&2\nexit 1\n');
    await page.getByRole('button', { name: 'Back up now' }).click();
    await page.locator('[data-testid="backup-row"][data-status="failed"]').waitFor({ timeout: 60_000 });
    await page.getByRole('button', { name: 'Back to Overview' }).click();
    const c = card('Heroku app');
    await c.locator('[data-testid="state-dot"][data-state="failing"]').waitFor({ timeout: 30_000 });
    assert.match(await c.getByTestId('state-line').innerText(), /The credentials command exited 1: vault: permission denied/);
    await shoot('overview-credentials-command-failed');
  });

  test('the command line and what it printed are never on the page', async () => {
    const text = await page.locator('body').innerText();
    for (const secret of [env.E2E_PG_READER_PASSWORD, script, 'heroku-app']) {
      assert.ok(!text.includes(secret), `${secret} is visible on the page`);
    }
  });

  test('no unexpected page errors', () => {
    assert.deepEqual(s.pageErrors, [], `page errors:\n${s.pageErrors.join('\n')}`);
    assert.deepEqual(s.consoleErrors, [], `console errors:\n${s.consoleErrors.join('\n')}`);
  });
});
