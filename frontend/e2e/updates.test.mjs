// End-to-end: Settings › About › Updates against a real local HTTPS feed.
// The dev build (only it: the `dev` tag) takes the feed's URL and the CA of
// its certificate from PGSAFE_DEV_UPDATE_FEED and PGSAFE_DEV_UPDATE_CA_FILE;
// the agent the window starts inherits them. A release build's feed is
// stamped at build time (docs/PACKAGING.md, "Update checks").
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { dismissWelcome, repo, startSession } from './harness.mjs';

const shots = join(repo, 'docs/screenshots');
let s;
let dir;
let server;
let feedURL;
// What the feed answers now: a body, or an HTTP status to fail with.
let answer = { status: 500 };
const requests = [];

/** A CA and a certificate for 127.0.0.1 it signed (openssl, as a real server's would be). */
function certificates(d) {
  const ssl = (...args) => execFileSync('openssl', args, { cwd: d, stdio: 'pipe' });
  ssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '2', '-subj', '/CN=PgSafe e2e test CA',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign', '-keyout', 'ca.key', '-out', 'ca.pem');
  ssl('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-subj', '/CN=127.0.0.1', '-keyout', 'server.key', '-out', 'server.csr');
  const ext = join(d, 'server.ext');
  execFileSync('sh', ['-c', `printf 'subjectAltName=IP:127.0.0.1\\nextendedKeyUsage=serverAuth\\n' > ${ext}`]);
  ssl('x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '2', '-extfile', ext, '-out', 'server.pem');
  return { ca: join(d, 'ca.pem'), key: readFileSync(join(d, 'server.key')), cert: readFileSync(join(d, 'server.pem')) };
}

async function shoot(page, name) {
  await page.getByRole('region', { name: 'About PgSafe' }).scrollIntoViewIfNeeded();
  await page.screenshot({ path: join(shots, `${name}-900-light.png`) });
  await page.emulateMedia({ colorScheme: 'dark' });
  await page.screenshot({ path: join(shots, `${name}-900-dark.png`) });
  await page.emulateMedia({ colorScheme: 'light' });
}

describe('update checks against a local HTTPS feed', () => {
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pgsafe-e2e-feed-'));
    const { ca, key, cert } = certificates(dir);
    server = createServer({ key, cert }, (req, res) => {
      requests.push({ url: req.url, headers: { ...req.headers } });
      if (answer.body) {
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify(answer.body));
      } else {
        res.writeHead(answer.status);
        res.end('down for maintenance');
      }
    });
    await new Promise((r) => server.listen(0, '127.0.0.1', r));
    feedURL = `https://127.0.0.1:${server.address().port}/feed.json`;
    s = await startSession({ viewport: { width: 900, height: 600 }, env: { PGSAFE_DEV_UPDATE_FEED: feedURL, PGSAFE_DEV_UPDATE_CA_FILE: ca } });
  });

  after(async () => {
    try {
      await s?.stop();
    } finally {
      server?.close();
      if (dir) rmSync(dir, { recursive: true, force: true });
    }
  });

  test('Check now shows the newer release, then up to date, then why the feed failed', async () => {
    const page = s.page;
    await dismissWelcome(page);
    const version = (await page.evaluate(() => window.go.ui.SystemService.AppInfo())).version;
    const release = version.split(/[-+]/)[0]; // the dev build X.Y.Z-dev.N+gHASH is older than X.Y.Z
    await page.getByRole('navigation', { name: 'Places' }).getByRole('button', { name: 'Settings' }).click();
    const about = page.getByRole('region', { name: 'About PgSafe' });
    const updates = about.getByTestId('updates');
    await updates.waitFor({ timeout: 60_000 });

    answer = {
      body: {
        version: release,
        published: '2026-12-01',
        url: `https://example.org/pgsafe/releases/tag/v${release}`,
        notes: 'Restores resume after a dropped connection.',
        downloads: { linux: `https://example.org/pgsafe/releases/download/v${release}/pgsafe_${release}_amd64.deb` },
      },
    };
    await updates.getByRole('button', { name: 'Check now' }).click();
    const offer = updates.getByTestId('update-available');
    await offer.waitFor({ timeout: 60_000 });
    assert.match(await offer.innerText(), new RegExp(`PgSafe ${release.replaceAll('.', '\\.')} is available \\(you have ${version.replaceAll('.', '\\.').replaceAll('+', '\\+')}\\)`));
    assert.match(await offer.innerText(), /Restores resume after a dropped connection\./);
    assert.equal(await offer.getByRole('link', { name: 'Release notes' }).getAttribute('href'), answer.body.url);
    assert.equal(await offer.getByRole('link', { name: 'Download page' }).getAttribute('href'), answer.body.downloads.linux);

    // The request said the version and the OS, and nothing else.
    const req = requests.at(-1);
    const q = new URL(req.url, feedURL).searchParams;
    assert.deepEqual([...q.keys()].sort(), ['os', 'v']);
    assert.equal(q.get('v'), version);
    assert.equal(q.get('os'), 'linux');
    assert.deepEqual(Object.keys(req.headers).sort(), ['accept', 'host', 'user-agent']);
    assert.equal(req.headers['user-agent'], `PgSafe/${version} (linux)`);
    await shoot(page, 'settings-update-available');

    // The feed says this very version: up to date, with the time checked.
    answer = { body: { version, url: 'https://example.org/pgsafe/releases' } };
    await updates.getByRole('button', { name: 'Check now' }).click();
    await updates.getByText(/^PgSafe is up to date · checked /).waitFor({ timeout: 60_000 });
    assert.equal(await updates.getByTestId('update-available').count(), 0);

    // The feed fails: the reason in words, no CLI hint.
    answer = { status: 500 };
    await updates.getByRole('button', { name: 'Check now' }).click();
    const error = updates.getByTestId('update-error');
    await error.waitFor({ timeout: 60_000 });
    const text = await error.innerText();
    assert.equal(text, `Could not check for updates: 127.0.0.1:${server.address().port} answered 500 Internal Server Error`);
    assert.doesNotMatch(text, /pgsafe |--/);
    await shoot(page, 'settings-update-error');
    assert.deepEqual(s.pageErrors, []);
  });
});
