// End-to-end: the settings database is emptied between two starts (a disk
// that filled up, a sync tool, a bad restore of the home folder). The window
// says what happened and what is safe, keeps the damaged file aside, and goes
// on with empty settings only when the user asks (issue 12, item 4).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, truncateSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { devBin, dismissWelcome, repo, startSession, until } from './harness.mjs';

const shotBase = resolve(repo, process.env.E2E_SHOT || 'build/e2e-shot.png').replace(/(\.png)?$/, '');

let home;
let s;

describe('damaged settings', () => {
  before(async () => {
    assert.ok(process.env.DISPLAY, 'no DISPLAY: run through scripts/e2e.sh (Xvfb)');
    home = mkdtempSync(join(tmpdir(), 'pgsafe-e2e-damaged-'));
  });

  after(async () => {
    await s?.stop();
    rmSync(home, { recursive: true, force: true });
  });

  test('a first start writes the settings and the audit checkpoint', async () => {
    s = await startSession({ home });
    await s.page.getByRole('heading', { name: 'No databases yet' }).waitFor({ timeout: 30_000 });
    await until('the settings database and audit checkpoint', () => existsSync(join(home, 'pgsafe.db')) && existsSync(join(home, 'audit.checkpoint')));
    await s.stop();
    s = undefined;
  });

  test('an emptied settings database is said to be, with what is safe, and set aside', async () => {
    truncateSync(join(home, 'pgsafe.db'), 0);
    s = await startSession({ home, viewport: { width: 900, height: 600 } });
    const banner = s.page.getByTestId('settings-damaged');
    await banner.waitFor({ timeout: 30_000 });
    const text = await banner.innerText();
    assert.match(text, /settings were damaged and set aside/);
    assert.match(text, /is empty \(0 bytes\)/);
    assert.match(text, /safe in their storages/);
    assert.doesNotMatch(text, /pgsafe [a-z]+ /, 'the window names no command-line commands');
    assert.equal(await s.page.getByTestId('key-error').count(), 0, 'it is not called a key problem');
    const kept = readdirSync(home).filter((n) => n.startsWith('damaged-'));
    assert.equal(kept.length, 1, `one damaged-* folder in ${readdirSync(home)}`);
    assert.ok(existsSync(join(home, kept[0], 'pgsafe.db')), 'the emptied file is kept aside');
    mkdirSync(dirname(shotBase), { recursive: true });
    await s.page.screenshot({ path: `${shotBase}-damaged-light.png` });
    await s.page.emulateMedia({ colorScheme: 'dark' });
    await s.page.screenshot({ path: `${shotBase}-damaged-dark.png` });
    await s.page.emulateMedia({ colorScheme: 'light' });
  });

  test('Continue with empty settings opens a fresh, working PgSafe', async () => {
    await s.page.getByRole('button', { name: 'Continue with empty settings' }).click();
    await s.page.getByTestId('settings-damaged').waitFor({ state: 'detached', timeout: 30_000 });
    await s.page.getByRole('heading', { name: 'No databases yet' }).waitFor({ timeout: 30_000 });
    await until('the new settings database', () => existsSync(join(home, 'pgsafe.db')));
  });

  test('no unexpected page errors', () => {
    assert.deepEqual(s.pageErrors, []);
    assert.deepEqual(s.consoleErrors, []);
  });
});

// The settings file put back to an older copy (restored from a backup of the
// home folder): the window says it was changed outside PgSafe, uses nothing
// of it, and accepts it only when the user says they did it (issue 12, item 3).
describe('settings changed outside PgSafe', () => {
  let home2;
  let s2;
  before(() => {
    home2 = mkdtempSync(join(tmpdir(), 'pgsafe-e2e-modified-'));
  });
  after(async () => {
    await s2?.stop();
    rmSync(home2, { recursive: true, force: true });
  });

  test('an older copy of the settings is refused in words, then accepted on request', async () => {
    s2 = await startSession({ home: home2 });
    await dismissWelcome(s2.page); // recorded in the settings copied below: no welcome over the later screens
    await s2.page.getByRole('heading', { name: 'No databases yet' }).waitFor({ timeout: 30_000 });
    await until('the settings database', () => existsSync(join(home2, 'pgsafe.db')));
    await s2.stop();
    s2 = undefined;
    copyFileSync(join(home2, 'pgsafe.db'), join(home2, 'older.db'));
    const folder = mkdtempSync(join(tmpdir(), 'pgsafe-e2e-folder-'));
    execFileSync(devBin, ['storage', 'add', 'local', '--name', 'usb', '--path', folder], { env: { ...process.env, PGSAFE_HOME: home2 }, stdio: 'pipe' });
    copyFileSync(join(home2, 'older.db'), join(home2, 'pgsafe.db')); // the file put back; its anchor stays

    s2 = await startSession({ home: home2, viewport: { width: 900, height: 600 } });
    const banner = s2.page.getByTestId('settings-modified');
    await banner.waitFor({ timeout: 30_000 });
    const said = await banner.innerText();
    assert.match(said, /was changed outside PgSafe: it is an older copy/);
    assert.match(said, /PgSafe uses none of it until you decide/);
    assert.doesNotMatch(said, /pgsafe [a-z]+ /, 'the window names no command-line commands');
    await s2.page.screenshot({ path: `${shotBase}-modified-light.png` });
    await s2.page.getByRole('button', { name: 'I changed it: accept the settings as they are' }).click();
    await banner.waitFor({ state: 'detached', timeout: 30_000 });
    await s2.page.getByRole('heading', { name: 'No databases yet' }).waitFor({ timeout: 30_000 });
    await s2.page.getByRole('navigation', { name: 'Places' }).getByRole('button', { name: 'Activity' }).click();
    await s2.page.locator('[data-testid="activity-row"][data-action="settings.accepted"]').first().waitFor({ timeout: 30_000 });
    rmSync(folder, { recursive: true, force: true });
    assert.deepEqual(s2.pageErrors, []);
  });
});
