// Shared by the e2e tests: start the dev binary (the real Go side serving the
// real frontend) with a fresh PGSAFE_HOME, and headless Chromium with the
// flags RECIPES.md lists and a fresh profile.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const devBin = resolve(repo, process.env.PGSAFE_DEV_BIN || 'build/bin/pgsafe-dev');
export const chromiumPath = process.env.CHROMIUM || '/usr/bin/chromium';

// Noise from Wails' own dev-mode scripts, not from PgSafe (see RECIPES.md).
const knownNoise = [/Cannot read properties of null \(reading 'nodes'\)/, /favicon\.ico/, /Unknown message from front end: runtime:ready/];
export const isNoise = (text) => knownNoise.some((re) => re.test(text));

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

/**
 * Starts the dev binary and a browser page on it; call stop() at the end.
 * With home, the app uses that settings directory (a later start on the same
 * settings) and stop() leaves it; otherwise a fresh one is made and removed.
 * env adds to the app's environment (the agent it starts inherits it).
 */
export async function startSession({ viewport = { width: 1024, height: 680 }, home, env = {} } = {}) {
  const s = { home: home ?? mkdtempSync(join(tmpdir(), 'pgsafe-e2e-home-')), profile: mkdtempSync(join(tmpdir(), 'pgsafe-e2e-profile-')), log: '', pageErrors: [], consoleErrors: [] };
  const port = await freePort();
  s.baseURL = `http://127.0.0.1:${port}`;
  s.app = spawn(devBin, ['-assetdir', join(repo, 'frontend/dist'), '-devserver', `127.0.0.1:${port}`], {
    cwd: repo,
    env: { ...process.env, ...env, PGSAFE_HOME: s.home },
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const collect = (b) => {
    s.log += b.toString();
  };
  s.app.stdout.on('data', collect);
  s.app.stderr.on('data', collect);
  process.once('exit', () => {
    kill(s.app, 'SIGKILL');
    stopAgentSync(s.home);
  });
  // The window starts PgSafe's agent (its own session, beyond the window's
  // process group); its log is in the settings folder.
  s.agentLog = () => {
    try {
      return readFileSync(join(s.home, 'agent.log'), 'utf8');
    } catch {
      return '';
    }
  };
  await waitForHTTP(s, s.baseURL + '/', 60_000);
  s.context = await chromium.launchPersistentContext(s.profile, {
    executablePath: chromiumPath,
    headless: true,
    viewport,
    colorScheme: 'light',
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  s.page = s.context.pages()[0] ?? (await s.context.newPage());
  s.page.on('pageerror', (e) => {
    if (!isNoise(e.message)) s.pageErrors.push(e.message);
  });
  s.page.on('console', (m) => {
    if (m.type() === 'error' && !isNoise(m.text()) && !isNoise(m.location().url ?? '')) s.consoleErrors.push(m.text());
  });
  await s.page.goto(s.baseURL + '/', { waitUntil: 'domcontentloaded' });
  // Closes the window (the browser and the window's process) and leaves the
  // agent running, as a user closing the window would.
  s.closeWindow = async () => {
    await s.context?.close();
    s.context = null;
    await stopApp(s.app);
  };
  s.stop = async () => {
    try {
      await s.context?.close();
    } finally {
      await stopApp(s.app);
      stopAgentSync(s.home);
      for (const d of home ? [s.profile] : [s.home, s.profile]) rmSync(d, { recursive: true, force: true });
    }
  };
  return s;
}

async function waitForHTTP(s, url, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  let last;
  while (Date.now() < deadline) {
    if (s.app.exitCode !== null || s.app.signalCode !== null) {
      throw new Error(`dev binary exited (${s.app.exitCode ?? s.app.signalCode}) before serving ${url}:\n${s.log}`);
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
  throw new Error(`${url} not ready after ${timeoutMs} ms (${last}):\n${s.log}`);
}

function kill(app, sig) {
  if (app && app.exitCode === null && app.signalCode === null) {
    try {
      process.kill(-app.pid, sig); // its own process group: children go too
    } catch {}
  }
}

/**
 * Waits until cond() (which may be async) holds, checking every 100 ms, for
 * at most ms, and returns what it returned; otherwise fails naming what
 * (a string, or a function called then, for the last state seen). For
 * states the app announces no event of: a file appearing or going, a
 * process answering.
 */
export async function until(what, cond, ms = 30_000) {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await cond();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${typeof what === 'function' ? what() : what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Stops the agent of home (waits until it has exited), as Quit PgSafe would. */
export function stopAgentSync(home) {
  const r = spawnSync(devBin, ['agent', 'stop'], { env: { ...process.env, PGSAFE_HOME: home }, encoding: 'utf8', timeout: 120_000 });
  if (r.status !== 0) console.error(`pgsafe agent stop: exit ${r.status}: ${r.stderr}`);
}

function stopApp(app) {
  if (!app || app.exitCode !== null || app.signalCode !== null) return Promise.resolve();
  return new Promise((res) => {
    const t = setTimeout(() => {
      kill(app, 'SIGKILL');
      res();
    }, 5000);
    app.once('exit', () => {
      clearTimeout(t);
      res();
    });
    kill(app, 'SIGTERM');
  });
}

/**
 * Waits for the first start's welcome (it shows on a settings folder where
 * no recovery kit of the key was saved yet) and chooses "Later", as a user
 * who wants to look around first would. kit.test.mjs tests the welcome.
 */
export async function dismissWelcome(page) {
  const welcome = page.getByRole('dialog', { name: 'Welcome to PgSafe' });
  await welcome.getByRole('button', { name: 'Later' }).click({ timeout: 60_000 });
  try {
    await welcome.waitFor({ state: 'detached', timeout: 30_000 });
  } catch (e) {
    // Say what the dialog showed (an error notice, say) rather than only that it stayed.
    const text = await welcome.innerText().catch(() => '');
    throw new Error(`the welcome stayed open after "Later": ${text.replace(/\s+/g, ' ').slice(0, 500)}`, { cause: e });
  }
}

/**
 * Fills the add wizard's (or the edit dialog's) connection step with the
 * harness's PostgreSQL (E2E_PG_HOST, _PORT, and db or E2E_PG_DB), SSL off,
 * and runs "Test and check privileges". The field "Database" is found by its
 * whole name: the step has other labels that say "database".
 */
export async function fillConnection(page, dialog, { name, user, password, db = process.env.E2E_PG_DB }) {
  const env = process.env;
  await dialog.getByLabel('Name in PgSafe').fill(name);
  await dialog.getByLabel('Host').fill(env.E2E_PG_HOST);
  await dialog.getByLabel('Port').fill(env.E2E_PG_PORT);
  await dialog.getByRole('textbox', { name: 'Database', exact: true }).fill(db);
  await dialog.getByLabel('User').fill(user);
  await dialog.getByLabel('Password', { exact: true }).fill(password);
  await dialog.getByLabel('SSL').click();
  await page.getByRole('option', { name: 'disable', exact: true }).click();
  await dialog.getByRole('button', { name: 'Test and check privileges' }).click();
}

/**
 * Adds the harness's database through the wizard as `name` (the reader role
 * unless told), then on its page picks `storage` as its one storage and saves:
 * the page is left on the database's page, ready for "Back up now".
 */
export async function addDatabaseOn(page, { name, storage, user = process.env.E2E_PG_READER, password = process.env.E2E_PG_READER_PASSWORD }) {
  await page.getByRole('navigation', { name: 'Places' }).getByRole('button', { name: 'Overview' }).click();
  await page.getByRole('button', { name: 'Add database' }).click();
  const dialog = page.getByRole('dialog');
  await fillConnection(page, dialog, { name, user, password });
  await dialog.getByRole('button', { name: 'Save database' }).click({ timeout: 30_000 });
  const card = page.locator(`[data-testid="database-card"][data-name="${name}"]`);
  await card.waitFor({ timeout: 30_000 });
  await card.getByRole('button', { name: 'Backups' }).click();
  await page.getByRole('main').getByLabel('Storages').click();
  await page.getByRole('option', { name: storage }).click();
  await page.keyboard.press('Escape');
  await page.getByRole('button', { name: 'Save', exact: true }).click();
  await page.getByRole('button', { name: 'Saved ✓' }).waitFor();
}
