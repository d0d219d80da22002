// End-to-end: a WebDAV storage added through the Storages page and a backup
// written to it, against a real Apache mod_dav the Go harness starts
// (backend/internal/e2e), which passes E2E_PG_* (as in wizard.test.mjs) and
//   E2E_WEBDAV_URL, E2E_WEBDAV_USER, E2E_WEBDAV_PASSWORD   the shared folder and its login
//   E2E_WEBDAV_DIR                                         the folder on the server's disk
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { addDatabaseOn, dismissWelcome, repo, startSession } from './harness.mjs';

const env = process.env;
const need = ['E2E_PG_HOST', 'E2E_PG_READER', 'E2E_PG_READER_PASSWORD', 'E2E_WEBDAV_URL', 'E2E_WEBDAV_USER', 'E2E_WEBDAV_PASSWORD', 'E2E_WEBDAV_DIR'];
const shots = join(repo, 'docs/screenshots');
let s;
let page;

async function shot(name) {
  await page.screenshot({ path: join(shots, `${name}.png`) });
  await page.emulateMedia({ colorScheme: 'dark' });
  await page.screenshot({ path: join(shots, `${name}-dark.png`) });
  await page.emulateMedia({ colorScheme: 'light' });
}

async function place(name) {
  await page.getByRole('navigation', { name: 'Places' }).getByRole('button', { name }).click();
}

describe('a WebDAV storage through the window', () => {
  before(async () => {
    const missing = need.filter((k) => !env[k]);
    assert.deepEqual(missing, [], 'run through `make test-e2e` (go test -tags e2e ./backend/internal/e2e), which starts the servers');
    s = await startSession({ viewport: { width: 900, height: 600 } });
    page = s.page;
    await dismissWelcome(page);
    await page.waitForFunction(async () => (await window.go.ui.SystemService.KeyStatus()).ready === true, null, { timeout: 60_000, polling: 250 });
  });

  after(async () => {
    await s?.stop();
  });

  test('a wrong password is refused in words; the right one is tested and saved', async () => {
    await place('Storages');
    await page.getByRole('button', { name: 'Add storage' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByText('WebDAV', { exact: true }).click();
    await dialog.getByLabel('Name').fill('nas');
    await dialog.getByRole('textbox', { name: 'User' }).fill(env.E2E_WEBDAV_USER);
    await dialog.getByRole('textbox', { name: 'Password' }).fill('not-the-password');
    // http:// to another machine (0.0.0.0 is not a loopback address): a
    // warning, and Save waits for the user's consent.
    await dialog.getByRole('textbox', { name: 'Folder address' }).fill(env.E2E_WEBDAV_URL.replace('127.0.0.1', '0.0.0.0'));
    const warning = dialog.getByText('The password would travel unencrypted');
    await warning.waitFor();
    const save = dialog.getByRole('button', { name: 'Test and save' });
    assert.equal(await save.isDisabled(), true, 'Save waits for the consent');
    const consent = dialog.getByRole('checkbox', { name: 'Send the password unencrypted (trusted network only)' });
    await consent.check();
    assert.equal(await save.isEnabled(), true, 'the consent enables Save');
    await consent.uncheck();
    await shot('storage-webdav-plain-http');
    // This machine over http needs no consent.
    await dialog.getByRole('textbox', { name: 'Folder address' }).fill(env.E2E_WEBDAV_URL);
    await warning.waitFor({ state: 'detached' });
    assert.equal(await save.isEnabled(), true);
    await dialog.getByRole('button', { name: 'Test and save' }).click();
    const problem = dialog.getByRole('alert');
    await problem.waitFor({ timeout: 60_000 });
    assert.match(await problem.innerText(), /refused the user name or password/);
    assert.doesNotMatch(await problem.innerText(), /pgsafe storage|--/, 'no command-line hint in the window');
    await problem.scrollIntoViewIfNeeded();
    await shot('storage-webdav-refused');

    await dialog.getByRole('textbox', { name: 'Password' }).fill(env.E2E_WEBDAV_PASSWORD);
    await dialog.getByRole('button', { name: 'Test and save' }).click();
    const row = page.locator('[data-testid="storage-row"][data-name="nas"]');
    await row.waitFor({ timeout: 60_000 });
    assert.match(await row.innerText(), /WebDAV/);
    assert.match(await row.innerText(), new RegExp(`${env.E2E_WEBDAV_USER}@127\\.0\\.0\\.1`));
    await row.getByRole('button', { name: 'Test' }).click();
    assert.match(await row.getByTestId('storage-test-result').innerText({ timeout: 30_000 }), /✓ Works/);
    await shot('storages-webdav');
  });

  test('Back up now writes the encrypted backup into the WebDAV folder', async () => {
    await addDatabaseOn(page, { name: 'Shop on WebDAV', storage: 'nas' });
    await page.getByRole('button', { name: 'Back up now' }).click();
    const row = page.locator('[data-testid="backup-row"][data-status="succeeded"]');
    await row.waitFor({ timeout: 90_000 });
    assert.match(await row.innerText(), /✓ nas/);
    const files = readdirSync(env.E2E_WEBDAV_DIR, { recursive: true }).map(String);
    assert.equal(files.filter((f) => f.endsWith('.pgsafe')).length, 3, `files in the WebDAV folder: ${files}`);
    assert.equal(files.filter((f) => f.includes('.pgsafe-tmp-')).length, 0, `left in the WebDAV folder: ${files}`);
    const html = await page.content();
    assert.ok(!html.includes(env.E2E_WEBDAV_PASSWORD), 'the WebDAV password is on the page');
  });
});
