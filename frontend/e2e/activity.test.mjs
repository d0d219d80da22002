// End-to-end: the Activity page in words, the schedule form's Every tab and
// the unsaved-changes guard, and the folder storage's Browse… button, against
// a real PostgreSQL and keychain started by the Go harness
// (backend/internal/e2e, `make test-e2e`; E2E_ONLY=activity for this file).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { dismissWelcome, repo, startSession } from './harness.mjs';

const env = process.env;
const shots = join(repo, 'docs/screenshots');
let s;
let page;
let folder;

const place = (name) => page.getByRole('navigation', { name: 'Places' }).getByRole('button', { name }).click();
const go = (service, method, ...args) => page.evaluate(([sv, m, a]) => window.go.ui[sv][m](...a), [service, method, args]);

async function both(name) {
  await page.screenshot({ path: join(shots, `${name}-900-light.png`) });
  await page.emulateMedia({ colorScheme: 'dark' });
  await page.screenshot({ path: join(shots, `${name}-900-dark.png`) });
  await page.emulateMedia({ colorScheme: 'light' });
}

describe('Activity in words, the schedule form, Browse…', () => {
  before(async () => {
    assert.ok(env.E2E_PG_HOST && env.E2E_PG_READER, 'run through `make test-e2e`, which starts the servers');
    folder = mkdtempSync(join(tmpdir(), 'pgsafe-e2e-activity-'));
    s = await startSession({ viewport: { width: 900, height: 600 } });
    page = s.page;
    await dismissWelcome(page);
    await page.waitForFunction(async () => (await window.go.ui.SystemService.KeyStatus()).ready === true, null, { timeout: 60_000, polling: 250 });
    await go('StorageService', 'Add', { name: 'Local disk', kind: 'local', path: folder });
    await go('DatabaseService', 'Add', {
      name: 'Shop', host: env.E2E_PG_HOST, port: Number(env.E2E_PG_PORT), dbname: env.E2E_PG_DB, user: env.E2E_PG_READER,
      password: env.E2E_PG_READER_PASSWORD, sslmode: 'disable', storages: ['Local disk'], countRows: true,
    }, false);
    // The backup's end, from the engine's event stream (registered before the start).
    const ended = page.evaluate(
      () =>
        new Promise((resolve) => {
          const off = window.runtime.EventsOn('engine:event', (ev) => {
            if (ev.type === 'job.finished' && ev.job === 'backup' && ev.database === 'Shop') {
              off();
              resolve(ev);
            }
          });
        }),
    );
    await go('BackupService', 'Start', 'Shop');
    const end = await ended;
    assert.equal(end.outcome, 'succeeded', `the backup did not succeed: ${end.error}`);
    const [latest] = await go('BackupService', 'List', 'Shop', 1);
    assert.equal(latest?.status, 'succeeded');
    await go('RestoreService', 'Verify', latest.id);
    await go('ScheduleService', 'Pause', 60);
    await page.reload({ waitUntil: 'domcontentloaded' });
  });

  after(async () => {
    try {
      await s?.stop();
    } finally {
      if (folder) rmSync(folder, { recursive: true, force: true });
    }
  });

  test('each entry is a sentence; its raw fields one click away; filters by database, kind and outcome', async () => {
    await place('Activity');
    const sentences = page.getByTestId('activity-sentence');
    await sentences.first().waitFor({ timeout: 20_000 });
    const text = async () => (await sentences.allInnerTexts()).join('\n');
    await page.waitForFunction(() => [...document.querySelectorAll('[data-testid="activity-sentence"]')].some((e) => e.textContent.startsWith('Verified')), null, { timeout: 20_000 });
    const all = await text();
    for (const want of [
      /^Backed up Shop: [\d.]+ (B|kB|MB) to Local disk in (under 1 s|\d+ s)$/m,
      /^Verified Shop's backup of .+$/m,
      /^Added database Shop \(read-only ✓\)$/m,
      /^Added storage Local disk \(a folder\)$/m,
      /^Paused scheduled backups until .+$/m,
      /^Created the master key that encrypts every backup/m,
      /^PgSafe started$/m,
    ]) {
      assert.match(all, want);
    }
    assert.doesNotMatch(all, /backup\.finished|database\.created|[0-9a-f]{8}-[0-9a-f]{4}-|\d{5,}|\{when\}/, 'codes, ids or raw numbers in the sentences');

    // The raw entry, one click away.
    const finished = page.locator('[data-testid="activity-row"][data-action="backup.finished"]');
    await finished.click();
    const raw = page.getByTestId('activity-raw');
    await raw.waitFor();
    const rawText = await raw.innerText();
    for (const part of ['action: backup.finished', 'outcome: ok', 'target: Shop', 'backup_id: ', 'stored_size: ']) assert.ok(rawText.includes(part), `raw entry lacks ${part}:\n${rawText}`);
    await both('activity');

    // Filters, answered by the Go side.
    const pick = async (label, option) => {
      await page.getByRole('combobox', { name: label }).click();
      await page.getByRole('option', { name: option, exact: true }).click();
    };
    await pick('Kind', 'Backups');
    await page.waitForFunction(() => ![...document.querySelectorAll('[data-testid="activity-row"]')].some((e) => !e.dataset.action.startsWith('backup.')), null, { timeout: 10_000 });
    const actions = await page.getByTestId('activity-row').evaluateAll((els) => els.map((e) => e.dataset.action));
    assert.deepEqual([...new Set(actions)].sort(), ['backup.finished', 'backup.started']);
    await pick('Kind', 'Everything');
    await pick('Database', 'Shop');
    await page.waitForFunction(() => !document.body.innerText.includes('Added storage Local disk'), null, { timeout: 10_000 });
    assert.match(await text(), /Verified Shop's backup/);
    await pick('Outcome', 'Failed or refused');
    await page.getByText('Nothing recorded that matches these filters.').waitFor({ timeout: 10_000 });
  });

  test('the Every tab checks and saves the 60 it shows; leaving with unsaved changes asks first', async () => {
    await place('Overview');
    await page.locator('[data-testid="database-card"][data-name="Shop"]').getByRole('button', { name: 'Backups' }).click();
    const panel = page.getByTestId('schedule-panel');
    await panel.waitFor({ timeout: 20_000 });
    await panel.getByText('Every', { exact: true }).click();
    assert.equal(await panel.getByLabel('Every (minutes)').inputValue(), '60');
    await panel.getByTestId('schedule-preview').filter({ hasText: 'every 1 h — next:' }).waitFor({ timeout: 10_000 });
    assert.doesNotMatch(await panel.getByTestId('schedule-preview').innerText(), /too often|0s|m0s/);
    await panel.getByTestId('unsaved-hint').waitFor();
    await panel.scrollIntoViewIfNeeded();
    await both('schedule-every');

    await place('Storages');
    const ask = page.getByRole('dialog', { name: 'Leave without saving?' });
    await ask.waitFor({ timeout: 10_000 });
    assert.match(await ask.innerText(), /Schedule/);
    await both('unsaved-guard');
    await ask.getByRole('button', { name: 'Stay and save' }).click();
    await ask.waitFor({ state: 'detached' });
    await panel.getByRole('button', { name: 'Save schedule' }).click();
    await panel.getByRole('button', { name: 'Saved ✓' }).waitFor({ timeout: 10_000 });
    const saved = await go('ScheduleService', 'Get', 'Shop');
    assert.equal(saved.form.kind, 'every');
    assert.equal(saved.form.everyMinutes, 60);
    await panel.getByTestId('schedule-status').filter({ hasText: 'every 1 h' }).waitFor({ timeout: 10_000 });
    assert.equal(await panel.getByTestId('unsaved-hint').count(), 0);
    await place('Storages'); // nothing unsaved: no question
    await page.getByRole('heading', { name: 'Storages' }).waitFor({ timeout: 10_000 });
  });

  test('the folder storage form has Browse…; the typed path works', async () => {
    await page.getByRole('button', { name: 'Add storage' }).click();
    const dialog = page.getByRole('dialog', { name: 'Add storage' });
    await dialog.getByRole('button', { name: 'Browse…' }).waitFor();
    await dialog.getByRole('textbox', { name: 'Name' }).fill('Second folder');
    await dialog.getByRole('textbox', { name: 'Folder' }).fill(folder);
    await both('storage-folder');
    await dialog.getByRole('button', { name: 'Test and save' }).click();
    await page.locator('[data-testid="storage-row"][data-name="Second folder"]').waitFor({ timeout: 30_000 });
  });

  test('no unexpected page errors', () => {
    assert.deepEqual(s.pageErrors, [], `page errors:\n${s.pageErrors.join('\n')}`);
    assert.deepEqual(s.consoleErrors, [], `console errors:\n${s.consoleErrors.join('\n')}`);
  });
});
