// End-to-end: a storage whose backups no one can delete (S3 Object Lock),
// added through the form against versitygw (the Go harness passes
// E2E_S3_LOCKED_BUCKET, a bucket created with Object Lock, besides the
// variables of backups.test.mjs). A bucket without Object Lock is refused in
// words; on the locked one, retention keeps the older backup and the
// Activity page says why, once.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { addDatabaseOn, dismissWelcome, repo, startSession, until } from './harness.mjs';

const env = process.env;
const need = ['E2E_PG_READER', 'E2E_PG_READER_PASSWORD', 'E2E_S3_ENDPOINT', 'E2E_S3_BUCKET', 'E2E_S3_LOCKED_BUCKET', 'E2E_S3_ACCESS_KEY', 'E2E_S3_SECRET_KEY'];
const shots = join(repo, 'docs/screenshots');
let s;
let page;

async function place(name) {
  await page.getByRole('navigation', { name: 'Places' }).getByRole('button', { name }).click();
}

describe('S3 Object Lock through the window', () => {
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

  test('the form adds a locked storage; a bucket without Object Lock is refused in words', async () => {
    await place('Storages');
    await page.getByRole('button', { name: 'Add storage' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByText('S3 / compatible').click();
    await dialog.getByLabel('Name').fill('vault');
    await dialog.getByLabel('Endpoint').fill(env.E2E_S3_ENDPOINT);
    await dialog.getByLabel('Bucket').fill(env.E2E_S3_BUCKET);
    await dialog.getByLabel('Access key ID').fill(env.E2E_S3_ACCESS_KEY);
    await dialog.getByLabel('Secret access key').fill(env.E2E_S3_SECRET_KEY);
    await dialog.getByLabel(/Path-style/).check();
    await dialog.getByLabel(/Keep backups undeletable/).check();
    await dialog.getByRole('textbox', { name: 'Days' }).fill('2');
    await dialog.getByText('No one', { exact: true }).click();
    await dialog.getByText(/Compliance mode: not even the account owner/).waitFor();
    await dialog.getByLabel(/Keep backups undeletable/).scrollIntoViewIfNeeded();
    await page.screenshot({ path: join(shots, 'storage-object-lock.png') });
    await page.emulateMedia({ colorScheme: 'dark' });
    await page.screenshot({ path: join(shots, 'storage-object-lock-dark.png') });
    await page.emulateMedia({ colorScheme: 'light' });

    await dialog.getByRole('button', { name: 'Test and save' }).click();
    const problem = dialog.getByRole('alert');
    await problem.waitFor({ timeout: 60_000 });
    const said = await problem.innerText();
    assert.match(said, /does not have Object Lock enabled/);
    assert.match(said, /create a bucket with Object Lock turned on/);
    assert.doesNotMatch(said, /pgsafe |--/, 'a CLI hint in the window');

    await dialog.getByLabel('Bucket').fill(env.E2E_S3_LOCKED_BUCKET);
    await dialog.getByRole('button', { name: 'Test and save' }).click();
    const row = page.locator('[data-testid="storage-row"][data-name="vault"]');
    await row.waitFor({ timeout: 60_000 });
    assert.match(await row.innerText(), /locked 2 days/);
  });

  test('backups go to it; retention keeps the older one for its lock and the Activity page says so once', async () => {
    await page.setViewportSize({ width: 1100, height: 760 });
    await addDatabaseOn(page, { name: 'Shop', storage: 'vault' });
    await page.evaluate(() => window.go.ui.ScheduleService.SetRetention('Shop', { keep_last: 1, keep_days: 0, hourly: 0, daily: 0, weekly: 0, monthly: 0, yearly: 0, max_size_bytes: 0 }));

    for (const n of [1, 2]) {
      await page.getByRole('button', { name: 'Back up now' }).click();
      await until(`${n} succeeded backups`, async () => (await page.locator('[data-testid="backup-row"][data-status="succeeded"]').count()) >= n, 90_000);
      await page.getByTestId('backup-finished').filter({ hasText: 'Backed up ✓' }).first().waitFor({ timeout: 30_000 });
    }
    assert.equal(await page.locator('[data-testid="backup-row"][data-status="failed"]').count(), 0, 'a backup failed');
    // The older backup's copy on vault is shown kept, with its lock's date, in the backups table.
    const keptCopy = page.locator('[data-testid="backup-copy"][data-kept="true"]');
    await keptCopy.first().waitFor({ timeout: 20_000 });
    assert.equal(await keptCopy.count(), 1);
    assert.match(await keptCopy.innerText(), /^\s*vault\s+locked to [A-Z][a-z]{2} \d{1,2}(, \d{4})?$/);
    assert.match(await keptCopy.getAttribute('data-kept-reason'), /^kept until \d{4}-\d{2}-\d{2}: the storage.s lock$/);
    await page.setViewportSize({ width: 900, height: 600 });
    await keptCopy.scrollIntoViewIfNeeded();
    for (const scheme of ['light', 'dark']) {
      await page.emulateMedia({ colorScheme: scheme });
      await page.screenshot({ path: join(shots, `backups-object-lock-kept-${scheme}.png`) });
    }
    await page.emulateMedia({ colorScheme: 'light' });
    await page.setViewportSize({ width: 1100, height: 760 });

    await place('Activity');
    const sentences = page.getByTestId('activity-sentence');
    await sentences.first().waitFor({ timeout: 20_000 });
    await page.waitForFunction(() => [...document.querySelectorAll('[data-testid="activity-sentence"]')].some((e) => e.textContent.startsWith('Kept')), null, { timeout: 20_000 });
    const all = (await sentences.allInnerTexts()).join('\n');
    const kept = all.split('\n').filter((l) => l.startsWith('Kept'));
    assert.equal(kept.length, 1, `kept sentences:\n${kept.join('\n')}`);
    assert.match(kept[0], /^Kept Shop's backup of .+ on vault, which retention would remove \(kept until \d{4}-\d{2}-\d{2}: the storage's lock\)$/);
    assert.doesNotMatch(all, /Removed Shop's backup/);
    assert.ok(!(await page.content()).includes(env.E2E_S3_SECRET_KEY), 'the secret key is on the page');
    await page.setViewportSize({ width: 900, height: 600 });
    await page.getByTestId('activity-sentence').filter({ hasText: /^Kept/ }).scrollIntoViewIfNeeded();
    await page.screenshot({ path: join(shots, 'activity-object-lock.png') });
    await page.emulateMedia({ colorScheme: 'dark' });
    await page.screenshot({ path: join(shots, 'activity-object-lock-dark.png') });
    await page.emulateMedia({ colorScheme: 'light' });
  });
});
