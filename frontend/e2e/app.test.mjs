// End-to-end: the real frontend served by the dev binary, with working Go
// bindings over Wails' websocket, driven in headless Chromium.
//
// Run by scripts/e2e.sh under Xvfb + dbus-run-session (the dev binary opens a
// GTK window too). Environment:
//   PGSAFE_DEV_BIN  dev binary (default <repo>/build/bin/pgsafe-dev)
//   E2E_SHOT        screenshot path (default <repo>/build/e2e-shot.png)
//   CHROMIUM        browser (default /usr/bin/chromium)
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { devBin, dismissWelcome, repo, startSession } from './harness.mjs';

const shotPath = resolve(repo, process.env.E2E_SHOT || 'build/e2e-shot.png');
const overviewShot = shotPath.replace(/(\.png)?$/, '-overview.png');
const pgBin = '/usr/lib/postgresql/15/bin';

let s; // the session: app, browser, page
let page;
let home; // PGSAFE_HOME
let pageErrors;
let consoleErrors;

describe('PgSafe in a browser, against the real Go side', () => {
  before(async () => {
    assert.ok(process.env.DISPLAY, 'no DISPLAY: run through scripts/e2e.sh (Xvfb)');
    s = await startSession();
    ({ page, home, pageErrors, consoleErrors } = s);
    await dismissWelcome(page);
  });

  after(async () => {
    try {
      if (page) {
        mkdirSync(dirname(shotPath), { recursive: true });
        await page.screenshot({ path: shotPath }).catch((e) => console.error(`screenshot failed: ${e.message}`));
        console.log(`screenshots: ${shotPath} ${overviewShot}`);
      }
    } finally {
      await s?.stop();
    }
  });

  test('the header shows the version the Go side reports', async () => {
    const expected = JSON.parse(execFileSync(devBin, ['version', '--json'], { encoding: 'utf8' })).version;
    assert.ok(expected, 'the binary reported no version');
    const badge = page.getByTestId('app-version');
    await badge.waitFor({ timeout: 20_000 });
    assert.equal((await badge.textContent())?.trim(), expected);
  });

  test('Overview: empty state and this machine’s pg_dump from Go', async () => {
    await page.getByRole('heading', { name: 'No databases yet' }).waitFor();
    const line = page.getByTestId('overview-tools');
    await line.and(page.locator('[data-tone="ok"]')).waitFor({ timeout: 20_000 });
    assert.match(await line.innerText(), /pg_dump 15\.\d+ found/);
    mkdirSync(dirname(shotPath), { recursive: true });
    await page.screenshot({ path: overviewShot });
  });

  test('Settings: Rescan asks Go again and lists pg_dump 15 with its folder', async () => {
    await page.getByRole('navigation', { name: 'Places' }).getByRole('button', { name: 'Settings' }).click();
    await page.getByRole('heading', { name: 'PostgreSQL client tools' }).waitFor();
    await page.getByTestId('tool-install').first().waitFor({ timeout: 20_000 });

    // Count the calls that reach the bound Go method from now on.
    await page.evaluate(() => {
      const svc = window.go.ui.SystemService;
      const real = svc.ClientTools;
      window.__clientToolsCalls = 0;
      svc.ClientTools = (...a) => {
        window.__clientToolsCalls++;
        return real(...a);
      };
    });
    const before = await page.getByTestId('tools-checked-at').textContent();
    await new Promise((r) => setTimeout(r, 1100)); // the "Checked" time has second precision
    await page.getByRole('button', { name: 'Rescan' }).click();
    await page.waitForFunction(() => window.__clientToolsCalls === 1);
    await page.waitForFunction(
      (prev) => document.querySelector('[data-testid="tools-checked-at"]')?.textContent !== prev,
      before,
      { timeout: 20_000 },
    );

    const pgDumpVersion = execFileSync(join(pgBin, 'pg_dump'), ['--version'], { encoding: 'utf8' });
    const m = /\(PostgreSQL\)\s+(\d+)\.(\d+)/.exec(pgDumpVersion);
    assert.ok(m, `unexpected pg_dump --version: ${pgDumpVersion}`);
    const want = `${m[1]}.${m[2]}`;

    const rows = page.getByTestId('tool-install');
    const dirs = await page.getByTestId('tool-dir').allTextContents();
    const i = dirs.indexOf(pgBin);
    assert.notEqual(i, -1, `${pgBin} not listed; listed: ${JSON.stringify(dirs)}`);
    const row = rows.nth(i);
    assert.equal((await row.getByTestId('tool-version').textContent())?.trim(), want);
    assert.equal(await row.getByTestId('program-pg_dump').getAttribute('data-found'), 'true');
    assert.equal(await row.getByTestId('program-pg_dump').getAttribute('aria-label'), `pg_dump found at ${pgBin}/pg_dump`);
    assert.equal(await row.getByTestId('program-pg_restore').getAttribute('data-found'), 'true');
  });

  test('Settings shows the PGSAFE_HOME the app was started with', async () => {
    const dir = page.getByTestId('settings-dir');
    await dir.waitFor();
    assert.equal((await dir.textContent())?.trim(), home);
    await page.getByRole('heading', { name: 'PostgreSQL client tools' }).scrollIntoViewIfNeeded();
  });

  // The agent writes the login item: here, with no systemd session (the
  // harness's runtime folder has no user manager), the XDG autostart entry
  // in the harness's XDG_CONFIG_HOME. backend/tray/autostart's tests run it.
  test('Settings › Desktop: Start PgSafe at login writes the agent’s login item and removes it', async () => {
    const entry = join(process.env.XDG_CONFIG_HOME, 'autostart', 'pgsafe.desktop');
    const panel = page.getByRole('region', { name: 'Desktop' });
    const sw = panel.getByRole('switch', { name: /^Start PgSafe at login/ });
    await panel.getByTestId('tray-status').waitFor();
    assert.match(await panel.getByTestId('tray-status').innerText(), /Closing this window never stops backups/);
    assert.equal(await sw.isChecked(), false);
    assert.ok(!existsSync(entry), `${entry} exists before the switch is on`);

    await sw.click();
    await page.waitForFunction(() => document.querySelector('[role="switch"]')?.checked === true);
    const deadline = Date.now() + 20_000;
    while (!existsSync(entry) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    const text = readFileSync(entry, 'utf8');
    assert.ok(text.includes(`\nExec=${devBin} agent --login\n`), `the entry does not run ${devBin} agent --login:\n${text}`);

    await page.setViewportSize({ width: 900, height: 600 });
    await panel.scrollIntoViewIfNeeded();
    const shots = join(repo, 'docs/screenshots');
    await page.screenshot({ path: join(shots, 'settings-desktop-900-light.png') });
    await page.emulateMedia({ colorScheme: 'dark' });
    await page.screenshot({ path: join(shots, 'settings-desktop-900-dark.png') });
    await page.emulateMedia({ colorScheme: 'light' });

    await sw.click();
    await page.waitForFunction(() => document.querySelector('[role="switch"]')?.checked === false);
    const gone = Date.now() + 20_000;
    while (existsSync(entry) && Date.now() < gone) await new Promise((r) => setTimeout(r, 50));
    assert.ok(!existsSync(entry), `${entry} is still there after the switch went off`);
  });

  test('no unexpected page errors', () => {
    assert.deepEqual(pageErrors, [], `page errors:\n${pageErrors.join('\n')}`);
    assert.deepEqual(consoleErrors, [], `console errors:\n${consoleErrors.join('\n')}`);
  });
});
