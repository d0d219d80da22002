// End-to-end: the window is only a face of PgSafe's agent (docs/AGENT.md).
// A backup started in the window goes on in the agent when the window is
// closed mid-backup, and the next window shows it finished. Needs the servers
// of the Go harness (backend/internal/e2e, `make test-e2e`): E2E_PG_*.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { dismissWelcome, repo, startSession, until } from './harness.mjs';

const env = process.env;
const shots = join(repo, 'docs/screenshots');
const psql = '/usr/lib/postgresql/15/bin/psql';
const sql = (q) => execFileSync(psql, [env.E2E_PG_ADMIN_URL, '-qc', q], { stdio: 'pipe' });
const role = ['ag_shop_reader', 'ag-shop-pw-3301'];
let s;
let first; // the session whose window is closed mid-backup
let folder;

/** Follows the agent's event stream (GET /v1/events on its Unix socket), as a face would. */
function followAgent(home) {
  const events = [];
  const waiters = [];
  const req = request({ socketPath: join(home, 'agent.sock'), path: '/v1/events', method: 'GET' }, (res) => {
    let buf = '';
    res.setEncoding('utf8');
    res.on('data', (chunk) => {
      buf += chunk;
      let i;
      while ((i = buf.indexOf('\n')) >= 0) {
        const ev = JSON.parse(buf.slice(0, i));
        buf = buf.slice(i + 1);
        events.push(ev);
        for (const w of waiters.splice(0)) if (!w(ev)) waiters.push(w);
      }
    });
  });
  req.end();
  /** Resolves with the first event (seen or to come) that matches. */
  const waitFor = (match, what, timeoutMs = 120_000) =>
    new Promise((resolve, reject) => {
      const seen = events.find(match);
      if (seen) return resolve(seen);
      const t = setTimeout(() => reject(new Error(`no ${what} from the agent in ${timeoutMs} ms; events: ${events.map((e) => e.event + ':' + (e.data?.type ?? '')).join(', ')}`)), timeoutMs);
      waiters.push((ev) => {
        if (!match(ev)) return false;
        clearTimeout(t);
        resolve(ev);
        return true;
      });
    });
  return { events, waitFor, close: () => req.destroy() };
}

/** GET /v1/hello on the agent's socket: who answers (rejects when none does). */
function hello(home) {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath: join(home, 'agent.sock'), path: '/v1/hello', method: 'GET' }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c) => (body += c));
      res.on('end', () => (res.statusCode === 200 ? resolve(JSON.parse(body)) : reject(new Error(`hello: HTTP ${res.statusCode}`))));
    });
    req.on('error', reject);
    req.end();
  });
}

/** Waits until an agent other than pid answers on home's socket (the window starts it). */
async function newAgent(home, pid, timeoutMs = 60_000) {
  let last;
  return until(() => `a new agent (${last})`, async () => {
    try {
      const h = await hello(home);
      if (h.pid !== pid) return h;
      last = `pid ${h.pid} still answers`;
    } catch (e) {
      last = e.message;
    }
    return null;
  }, timeoutMs);
}

/** Holds an exclusive lock on a table in an open transaction: pg_dump waits for it. */
async function lockTable(table) {
  const p = spawn(psql, [env.E2E_PG_ADMIN_URL, '-X'], { stdio: ['pipe', 'pipe', 'pipe'] });
  await new Promise((resolve, reject) => {
    let out = '';
    p.stdout.on('data', (b) => {
      out += b;
      if (out.includes('LOCK TABLE')) resolve();
    });
    p.on('exit', (code) => reject(new Error(`psql exited (${code}) before the lock was held: ${out}`)));
    p.stdin.write(`BEGIN; LOCK TABLE ${table} IN ACCESS EXCLUSIVE MODE;\n`);
  });
  return () =>
    new Promise((resolve) => {
      p.removeAllListeners('exit');
      p.on('exit', resolve);
      p.stdin.end('COMMIT;\n');
    });
}

const ev = (e, type) => e.event === 'engine:event' && e.data?.type === type && e.data?.job === 'backup' && e.data?.database === 'Shop';

describe('the agent outlives the window', () => {
  before(async () => {
    assert.ok(env.E2E_PG_ADMIN_URL && env.E2E_PG_HOST, 'run through `make test-e2e`, which starts the servers');
    sql(`DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '${role[0]}') THEN CREATE ROLE ${role[0]} LOGIN; END IF; END $$;
         ALTER ROLE ${role[0]} PASSWORD '${role[1]}'; GRANT SELECT ON customers, orders TO ${role[0]};`);
    folder = mkdtempSync(join(tmpdir(), 'pgsafe-e2e-agent-'));
    s = await startSession({ viewport: { width: 900, height: 600 } });
  });

  after(async () => {
    try {
      await s?.stop();
    } finally {
      if (first && first !== s) for (const d of [first.home, first.profile]) rmSync(d, { recursive: true, force: true });
      sql(`REVOKE ALL ON customers, orders FROM ${role[0]}; DROP ROLE IF EXISTS ${role[0]};`);
      if (folder) rmSync(folder, { recursive: true, force: true });
    }
  });

  test('a backup started in the window finishes in the agent after the window is closed mid-backup', async () => {
    let page = s.page;
    await dismissWelcome(page);
    await page.waitForFunction(async () => (await window.go.ui.SystemService.KeyStatus()).ready === true, null, { timeout: 60_000, polling: 250 });
    const go = (service, method, ...args) => page.evaluate(([sv, m, a]) => window.go.ui[sv][m](...a), [service, method, args]);
    await go('StorageService', 'Add', { name: 'Local disk', kind: 'local', path: folder });
    await go('DatabaseService', 'Add', { name: 'Shop', host: env.E2E_PG_HOST, port: Number(env.E2E_PG_PORT), dbname: env.E2E_PG_DB, user: role[0], password: role[1], sslmode: 'disable', storages: ['Local disk'], countRows: true }, false);
    await page.reload({ waitUntil: 'domcontentloaded' });

    // The window started the agent: it listens in the settings folder.
    assert.ok(existsSync(join(s.home, 'agent.sock')), 'no agent socket in the settings folder');
    const agent = followAgent(s.home);
    const release = await lockTable('orders');
    try {
      // The Overview's card offers the first backup; it shows it running.
      const card = page.locator('[data-testid="database-card"][data-name="Shop"]');
      await card.getByTestId('card-fix').filter({ hasText: 'Back up now' }).click();
      await agent.waitFor((e) => ev(e, 'job.started'), 'job.started of the backup');
      await card.getByText('Backing up…').waitFor({ timeout: 30_000 });
      await page.screenshot({ path: join(shots, 'agent-backup-running-900.png') });

      // Close the window while pg_dump waits for the lock.
      await s.closeWindow();
      assert.ok(!agent.events.some((e) => ev(e, 'job.finished')), 'the backup finished before the window closed: the test proves nothing');
      assert.ok(!agent.events.some((e) => e.event === 'agent:stopping'), 'the agent stopped with the window');
    } finally {
      await release();
    }
    const done = await agent.waitFor((e) => ev(e, 'job.finished'), 'job.finished of the backup');
    agent.close();
    assert.equal(done.data.outcome, 'succeeded', `the backup ended ${done.data.outcome}: ${done.data.error ?? ''}`);

    // A new window on the same settings shows it, from the same agent.
    first = s;
    s = await startSession({ viewport: { width: 900, height: 600 }, home: first.home });
    page = s.page;
    const card = page.locator('[data-testid="database-card"][data-name="Shop"]');
    await card.getByRole('button', { name: 'Backups' }).click();
    await page.locator('[data-testid="backup-row"][data-status="succeeded"]').first().waitFor({ timeout: 30_000 });
    await page.screenshot({ path: join(shots, 'agent-backup-after-window-closed-900.png') });
  });

  test('the agent killed with -9 mid-backup: the open window starts a new one, the backup is recorded as interrupted and nothing of it is kept', async () => {
    const page = s.page; // the second window, still open
    const before = await hello(s.home);
    const old = followAgent(s.home);
    const release = await lockTable('orders');
    let interrupted;
    try {
      await page.getByRole('button', { name: 'Back up now' }).click(); // on Shop's page
      interrupted = (await old.waitFor((e) => ev(e, 'job.started') && !e.data.origin?.includes('scheduled'), 'job.started of the second backup')).data.jobId;
      process.kill(before.pid, 'SIGKILL');
      const after = await newAgent(s.home, before.pid);
      assert.notEqual(after.pid, before.pid);
    } finally {
      old.close();
      await release();
    }
    assert.ok(interrupted, 'the started event carried no backup ID');

    // The window follows the new agent: Shop's page lists that backup as
    // interrupted, never as good.
    await page.getByRole('navigation', { name: 'Places' }).getByRole('button', { name: 'Overview' }).click();
    await page.locator('[data-testid="database-card"][data-name="Shop"]').getByRole('button', { name: 'Backups' }).click();
    // Its progress no longer shows: the job died with the agent.
    await page.getByRole('button', { name: 'Back up now' }).and(page.locator(':not([disabled])')).waitFor({ timeout: 30_000 });
    assert.equal(await page.getByText('Connecting and taking a consistent snapshot…').count(), 0, 'the killed agent\'s backup still shows as running');
    const row = page.locator('[data-testid="backup-row"][data-status="failed"]').first();
    await row.waitFor({ timeout: 60_000 });
    assert.match(await page.getByTestId('backups-table').innerText(), /interrupted/i);
    assert.equal(await page.locator('[data-testid="backup-row"][data-status="succeeded"]').count(), 1, 'the interrupted backup shows as succeeded');
    await page.screenshot({ path: join(shots, 'agent-killed-backup-interrupted-900.png') });

    // Nothing of it on the storage: no file names it, and the new agent
    // sweeps the temporary files of interrupted writes.
    const names = () => readdirSync(folder, { recursive: true }).map(String);
    assert.ok(!names().some((n) => n.includes(interrupted) && !n.includes('.pgsafe-tmp-')), `a file of the interrupted backup was kept: ${names()}`);
    const temps = () => names().filter((n) => n.includes('.pgsafe-tmp-'));
    await until(() => `the sweep of the interrupted backup's temporary files (left: ${temps()})`, () => temps().length === 0);
  });

  test('Quit PgSafe in Settings stops the agent, and the window closes with it', async () => {
    const page = s.page;
    const before = await hello(s.home);
    await page.getByRole('navigation', { name: 'Places' }).getByRole('button', { name: 'Settings' }).click();
    await page.getByRole('button', { name: 'Quit PgSafe…' }).click();
    const dialog = page.getByRole('dialog', { name: 'Quit PgSafe?' });
    await dialog.waitFor();
    await dialog.getByRole('button', { name: 'Keep running' }).click({ trial: true }); // waits until it stops moving in
    for (const scheme of ['light', 'dark']) {
      await page.emulateMedia({ colorScheme: scheme });
      await page.screenshot({ path: join(shots, `agent-quit-900-${scheme}.png`) });
    }
    await page.emulateMedia({ colorScheme: 'light' });
    const exited = new Promise((resolve) => s.app.once('exit', resolve));
    await dialog.getByRole('button', { name: 'Quit PgSafe' }).click();
    await exited; // the window's process ends once the agent says it stops
    // The agent then finishes stopping on its own: its last log line says so.
    await until(() => `the agent's "stopped cleanly" in its log:\n${s.agentLog()}`, () => /stopped cleanly/.test(s.agentLog().split(`pid=${before.pid}`).pop()));
    await assert.rejects(hello(s.home), 'an agent still answers after Quit PgSafe');
    assert.ok(!existsSync(join(s.home, 'agent.sock')), 'the agent left its socket behind');
    assert.match(s.agentLog(), new RegExp(`pid=${before.pid}[\\s\\S]*stopping: asked by a face[\\s\\S]*stopped cleanly`));
  });
});
