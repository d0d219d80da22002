// End-to-end: the settings database is emptied between two starts (a disk
// that filled up, a sync tool, a bad restore of the home folder). The window
// says what happened and what is safe, keeps the damaged file aside, and goes
// on with empty settings only when the user asks (issue 12, item 4).
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, truncateSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { repo, startSession } from './harness.mjs';

const shotBase = resolve(repo, process.env.E2E_SHOT || 'build/e2e-shot.png').replace(/(\.png)?$/, '');

/** Waits for cond() to hold, checking every 100 ms, for at most ms. */
async function until(what, cond, ms = 30_000) {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

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
