// The recovery kit in the window, against the real Go side and keychain:
// the first start's welcome, a kit saved with a generated passphrase to a
// typed path, Settings saying so, and the kit imported through Settings on
// a second, fresh settings folder.
//
// The e2e run shares one Secret Service keychain between its files, and
// PgSafe keeps one master key per user there (item PgSafe / master-key, not
// per settings folder): whichever file starts first creates it, every fresh
// settings folder after uses it. So this test asserts nothing about who
// created the key, and its second settings folder has the same key: the
// import there is the "this computer's own key" case (the replacing of a
// different key is tested in backend/ui/kit_test.go, with a keychain of its
// own).
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { dismissWelcome, repo, startSession } from './harness.mjs';

const shots = join(repo, 'docs/screenshots');
let s; // first settings folder
let s2; // second
let dir; // where the kit goes
let kitPath;
let words; // the generated passphrase
let keyId;

async function place(page, name) {
  await page.getByRole('navigation', { name: 'Places' }).getByRole('button', { name }).click();
}

async function shoot(page, name) {
  await page.screenshot({ path: join(shots, `${name}-light.png`) });
  await page.emulateMedia({ colorScheme: 'dark' });
  await page.screenshot({ path: join(shots, `${name}-dark.png`) });
  await page.emulateMedia({ colorScheme: 'light' });
}

describe('recovery kit: welcome, save, import', () => {
  before(async () => {
    assert.ok(process.env.DISPLAY, 'no DISPLAY: run through scripts/e2e.sh (Xvfb)');
    dir = mkdtempSync(join(tmpdir(), 'pgsafe-e2e-kit-'));
    kitPath = join(dir, 'my-kit.txt');
    s = await startSession({ viewport: { width: 900, height: 600 } });
  });

  after(async () => {
    await s?.stop();
    await s2?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('a first start shows the welcome: the key, and why a kit matters', async () => {
    const welcome = s.page.getByRole('dialog', { name: 'Welcome to PgSafe' });
    await welcome.waitFor({ timeout: 60_000 });
    const text = await welcome.innerText();
    keyId = (await s.page.evaluate(async () => (await window.go.ui.SystemService.KeyStatus()).keyId)) ?? '';
    assert.match(keyId, /^[0-9a-f]{16}$/);
    assert.match(text, new RegExp(`PgSafe (has created|uses) a master key for this computer, ${keyId}`));
    assert.match(text, /every backup becomes unreadable, unless you have saved a recovery kit/);
    assert.doesNotMatch(text, /pgsafe [a-z]+ /, 'the window names no command-line commands');
    await shoot(s.page, 'kit-welcome-900');
  });

  test('a generated passphrase, shown once, and a typed path save a kit file', async () => {
    const page = s.page;
    await page.getByRole('button', { name: 'Save a recovery kit' }).click();
    const dialog = page.getByRole('dialog', { name: 'Save a recovery kit' });
    const shown = dialog.getByTestId('generated-passphrase');
    await shown.filter({ hasText: /^\S+( \S+){5}$/ }).waitFor({ timeout: 30_000 });
    words = (await shown.innerText()).trim();
    assert.equal(words.split(' ').length, 6);
    const next = dialog.getByRole('button', { name: 'Next' });
    assert.equal(await next.isDisabled(), true, 'Next waits for "I have written it down"');
    await dialog.getByLabel('I have written the passphrase down').check();
    await next.click();
    const file = dialog.getByLabel('Kit file');
    assert.match(await file.inputValue(), new RegExp(`PgSafe-recovery-kit-${keyId}\\.txt$`), 'a default path is proposed');
    await file.fill(kitPath);
    await dialog.getByRole('button', { name: 'Save' }).click();
    const saved = dialog.getByTestId('kit-saved');
    await saved.waitFor({ timeout: 30_000 });
    assert.match(await saved.innerText(), new RegExp(`kit of key ${keyId} is in ${kitPath.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
    await shoot(page, 'kit-saved-900');

    // The file is a kit of this key (docs/KEYS.md, "Text form"), private to the user.
    assert.ok(existsSync(kitPath), 'the kit file exists');
    const content = readFileSync(kitPath, 'utf8');
    const lines = content.split('\n');
    assert.equal(lines[0], 'PGSAFE-KIT-1');
    assert.match(lines[1], new RegExp(`^# PgSafe recovery kit of master key ${keyId} `));
    assert.equal(lines.filter((l) => /^[1-8]: /.test(l)).length, 8, 'eight numbered lines');
    assert.equal(statSync(kitPath).mode & 0o777, 0o600);
    assert.equal((await dialog.getByTestId('kit-text').innerText()).trim(), content.trim(), 'the window shows the file’s text to print');
    // The passphrase is shown once: not after saving, never in the log.
    assert.equal(await page.getByText(words).count(), 0, 'the passphrase is gone from the window');
    assert.ok(!s.log.includes(words), 'the passphrase is not in the app’s log');
    await dialog.getByRole('button', { name: 'Done' }).click();
    await dialog.waitFor({ state: 'detached' });
    assert.equal(await page.getByRole('dialog', { name: 'Welcome to PgSafe' }).count(), 0, 'the welcome does not come back');
  });

  test('Settings says the kit was saved, and where', async () => {
    await place(s.page, 'Settings');
    const status = s.page.getByTestId('kit-status');
    await status.filter({ hasText: 'Recovery kit saved' }).waitFor({ timeout: 30_000 });
    assert.match(await status.innerText(), new RegExp(`exported .* to ${kitPath.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
    assert.deepEqual(s.pageErrors, []);
    assert.deepEqual(s.consoleErrors, []);
    await s.stop();
    s = undefined;
  });

  test('on a second, fresh settings folder the kit is imported through Settings', async () => {
    s2 = await startSession({ viewport: { width: 900, height: 600 } });
    const page = s2.page;
    await dismissWelcome(page);
    await place(page, 'Settings');
    const status = page.getByTestId('kit-status');
    await status.filter({ hasText: 'No recovery kit saved yet' }).waitFor({ timeout: 30_000 });
    await page.getByRole('button', { name: 'Import recovery kit…' }).click();
    const dialog = page.getByRole('dialog', { name: 'Import a recovery kit' });
    await dialog.getByLabel('Kit file').fill(kitPath);
    await dialog.getByRole('button', { name: 'Read kit' }).click();
    const verdict = dialog.getByTestId('kit-verdict');
    await verdict.waitFor({ timeout: 30_000 });
    assert.match(await verdict.innerText(), new RegExp(`holds key ${keyId}, the key this computer uses`));

    await dialog.getByLabel('The kit’s passphrase').fill('not the passphrase of this kit');
    await dialog.getByRole('button', { name: 'Import', exact: true }).click();
    await dialog.getByText(/does not open the recovery kit/).waitFor({ timeout: 30_000 });

    await dialog.getByLabel('The kit’s passphrase').fill(words);
    await dialog.getByRole('button', { name: 'Import', exact: true }).click();
    const done = dialog.getByTestId('kit-imported');
    await done.waitFor({ timeout: 30_000 });
    assert.match(await done.innerText(), /its kit and passphrase are good/);
    await shoot(page, 'kit-imported-900');
    await dialog.getByRole('button', { name: 'Done' }).click();
    await status.filter({ hasText: 'Recovery kit saved: imported' }).waitFor({ timeout: 30_000 });
    assert.ok(!s2.log.includes(words), 'the passphrase is not in the app’s log');
  });

  test('no unexpected page errors', () => {
    assert.deepEqual(s2.pageErrors, []);
    assert.deepEqual(s2.consoleErrors, []);
  });
});
