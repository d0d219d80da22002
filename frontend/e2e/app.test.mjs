// End-to-end: the real frontend served by the dev binary, with working Go
// bindings over Wails' websocket, driven in headless Chromium.
//
// Run by scripts/e2e.sh under Xvfb + dbus-run-session (the dev binary opens a
// GTK window too). Environment:
//   PGSAFE_DEV_BIN  dev binary (default <repo>/build/bin/pgsafe-dev)
//   E2E_SHOT        screenshot path (default <repo>/build/e2e-shot.png)
//   CHROMIUM        browser (default /usr/bin/chromium)
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const devBin = resolve(repo, process.env.PGSAFE_DEV_BIN || 'build/bin/pgsafe-dev');
const shotPath = resolve(repo, process.env.E2E_SHOT || 'build/e2e-shot.png');
const overviewShot = shotPath.replace(/(\.png)?$/, '-overview.png');
const chromiumPath = process.env.CHROMIUM || '/usr/bin/chromium';
const pgBin = '/usr/lib/postgresql/15/bin';

// Noise from Wails' own dev-mode scripts, not from PgSafe (see RECIPES.md).
const knownNoise = [
  /Cannot read properties of null \(reading 'nodes'\)/,
  /favicon\.ico/,
  /Unknown message from front end: runtime:ready/,
];
const isNoise = (text) => knownNoise.some((re) => re.test(text));

let app; // the dev binary
let appLog = '';
let context; // browser context
let page;
let home; // PGSAFE_HOME
let profile; // browser profile
let baseURL;
const pageErrors = [];
const consoleErrors = [];

function freePort() {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', rej);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => res(port));
    });
  });
}

async function waitForHTTP(url, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  let last;
  while (Date.now() < deadline) {
    if (app.exitCode !== null || app.signalCode !== null) {
      throw new Error(`dev binary exited (${app.exitCode ?? app.signalCode}) before serving ${url}:\n${appLog}`);
    }
    try {
      const r = await fetch(url, { signal: AbortSignal.timeout(2000) });
      if (r.ok) return;
      last = `HTTP ${r.status}`;
    } catch (e) {
      last = e.message;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${url} not ready after ${timeoutMs} ms (${last}):\n${appLog}`);
}

function stopApp() {
  if (!app || app.exitCode !== null || app.signalCode !== null) return Promise.resolve();
  return new Promise((res) => {
    const t = setTimeout(() => {
      try {
        process.kill(-app.pid, 'SIGKILL');
      } catch {}
      res();
    }, 5000);
    app.once('exit', () => {
      clearTimeout(t);
      res();
    });
    try {
      process.kill(-app.pid, 'SIGTERM'); // its own process group: children go too
    } catch {
      clearTimeout(t);
      res();
    }
  });
}

// Even if the runner is interrupted, do not leave the binary behind.
process.once('exit', () => {
  if (app && app.exitCode === null && app.signalCode === null) {
    try {
      process.kill(-app.pid, 'SIGKILL');
    } catch {}
  }
});

describe('PgSafe in a browser, against the real Go side', () => {
  before(async () => {
    assert.ok(process.env.DISPLAY, 'no DISPLAY: run through scripts/e2e.sh (Xvfb)');
    home = mkdtempSync(join(tmpdir(), 'pgsafe-e2e-home-'));
    profile = mkdtempSync(join(tmpdir(), 'pgsafe-e2e-profile-'));
    const port = await freePort();
    baseURL = `http://127.0.0.1:${port}`;
    app = spawn(devBin, ['-assetdir', join(repo, 'frontend/dist'), '-devserver', `127.0.0.1:${port}`], {
      cwd: repo,
      env: { ...process.env, PGSAFE_HOME: home },
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const collect = (b) => {
      appLog += b.toString();
    };
    app.stdout.on('data', collect);
    app.stderr.on('data', collect);
    await waitForHTTP(baseURL + '/', 60_000);

    context = await chromium.launchPersistentContext(profile, {
      executablePath: chromiumPath,
      headless: true,
      viewport: { width: 1024, height: 680 },
      colorScheme: 'light',
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
    page = context.pages()[0] ?? (await context.newPage());
    page.on('pageerror', (e) => {
      if (!isNoise(e.message)) pageErrors.push(e.message);
    });
    page.on('console', (m) => {
      if (m.type() === 'error' && !isNoise(m.text()) && !isNoise(m.location().url ?? '')) consoleErrors.push(m.text());
    });
    await page.goto(baseURL + '/', { waitUntil: 'domcontentloaded' });
  });

  after(async () => {
    try {
      if (page) {
        mkdirSync(dirname(shotPath), { recursive: true });
        await page.screenshot({ path: shotPath }).catch((e) => console.error(`screenshot failed: ${e.message}`));
        console.log(`screenshots: ${shotPath} ${overviewShot}`);
      }
      await context?.close();
    } finally {
      await stopApp();
      for (const d of [home, profile]) if (d) rmSync(d, { recursive: true, force: true });
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

  test('no unexpected page errors', () => {
    assert.deepEqual(pageErrors, [], `page errors:\n${pageErrors.join('\n')}`);
    assert.deepEqual(consoleErrors, [], `console errors:\n${consoleErrors.join('\n')}`);
  });
});
