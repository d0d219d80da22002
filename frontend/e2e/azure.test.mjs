// End-to-end: an Azure Blob Storage container added through the Add storage
// form and backed up to, against Azurite (Microsoft's emulator) started by
// the Go harness (backend/internal/e2e, `make test-e2e`), which passes:
//   E2E_PG_*                      as in wizard.test.mjs
//   E2E_AZURE_ENDPOINT, E2E_AZURE_ACCOUNT, E2E_AZURE_KEY, E2E_AZURE_CONTAINER
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { addDatabaseOn, dismissWelcome, repo, startSession } from './harness.mjs';

const env = process.env;
const need = ['E2E_PG_HOST', 'E2E_PG_PORT', 'E2E_PG_DB', 'E2E_PG_READER', 'E2E_PG_READER_PASSWORD', 'E2E_AZURE_ENDPOINT', 'E2E_AZURE_ACCOUNT', 'E2E_AZURE_KEY', 'E2E_AZURE_CONTAINER'];
const shots = join(repo, 'docs/screenshots');
let s;
let page;

async function place(name) {
  await page.getByRole('navigation', { name: 'Places' }).getByRole('button', { name }).click();
}

describe('an Azure Blob storage through the window, against Azurite', () => {
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

  test('a wrong access key is refused in words; the right one is tested and saved', async () => {
    await place('Storages');
    await page.getByRole('button', { name: 'Add storage' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByText('Azure Blob').click();
    await dialog.getByLabel('Name').fill('azure');
    await dialog.getByLabel('Storage account').fill(env.E2E_AZURE_ACCOUNT);
    await dialog.getByRole('textbox', { name: /^Container/ }).fill(env.E2E_AZURE_CONTAINER);
    await dialog.getByLabel('Folder in the container').fill('pgsafe');
    await dialog.getByLabel('Endpoint').fill(env.E2E_AZURE_ENDPOINT);
    // A SAS token instead, then back: switching clears what was typed.
    await dialog.getByText('Use a SAS token').click();
    await dialog.getByLabel('SAS token', { exact: true }).fill('sv=2024&sig=not-a-real-one');
    await dialog.getByText('Use the access key').click();
    assert.equal(await dialog.getByLabel('Access key', { exact: true }).inputValue(), '');
    const wrong = 'AAAA' + env.E2E_AZURE_KEY.slice(4);
    await dialog.getByLabel('Access key', { exact: true }).fill(wrong);
    await dialog.getByRole('button', { name: 'Test and save' }).click();
    const problem = dialog.getByRole('alert');
    await problem.waitFor({ timeout: 60_000 });
    const said = await problem.innerText();
    assert.match(said, /the access key is wrong/);
    assert.match(said, /Access keys/);
    assert.ok(!said.includes(wrong) && !said.includes(env.E2E_AZURE_KEY), 'the error shows the key');
    await problem.scrollIntoViewIfNeeded();
    await page.screenshot({ path: join(shots, 'storage-azure-wrong-key.png') });
    await page.emulateMedia({ colorScheme: 'dark' });
    await page.screenshot({ path: join(shots, 'storage-azure-wrong-key-dark.png') });
    await page.emulateMedia({ colorScheme: 'light' });

    await dialog.getByLabel('Access key', { exact: true }).fill(env.E2E_AZURE_KEY);
    await dialog.getByRole('button', { name: 'Test and save' }).click();
    const row = page.locator('[data-testid="storage-row"][data-name="azure"]');
    await row.waitFor({ timeout: 60_000 });
    assert.match(await row.innerText(), /\bAzure\b/);
    assert.match(await row.innerText(), new RegExp(`azure://${env.E2E_AZURE_ACCOUNT}/${env.E2E_AZURE_CONTAINER}/pgsafe`));
    await row.getByRole('button', { name: 'Test' }).click();
    assert.match(await row.getByTestId('storage-test-result').innerText({ timeout: 60_000 }), /✓ Works/);
    assert.ok(!(await page.content()).includes(env.E2E_AZURE_KEY), 'the key is on the page');
    await page.screenshot({ path: join(shots, 'storages-azure.png') });
    await page.emulateMedia({ colorScheme: 'dark' });
    await page.screenshot({ path: join(shots, 'storages-azure-dark.png') });
    await page.emulateMedia({ colorScheme: 'light' });
  });

  test('Back up now writes to the container', async () => {
    await addDatabaseOn(page, { name: 'Shop', storage: 'azure' });
    await page.getByRole('button', { name: 'Back up now' }).click();
    const row = page.locator('[data-testid="backup-row"][data-status="succeeded"]');
    await row.waitFor({ timeout: 90_000 });
    assert.match(await row.innerText(), /✓ azure/);
    // The backup is in the container: verify reads it back from there.
    await row.getByRole('button', { name: /Actions for the backup/ }).click();
    await page.getByRole('menuitem', { name: 'Verify' }).click();
    assert.match(await page.getByTestId('check-result').innerText({ timeout: 60_000 }), /Verification passed ✓/);
  });
});
