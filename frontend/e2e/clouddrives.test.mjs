// End-to-end: Dropbox and OneDrive through the real sign-in flow, against
// the Go harness's fakes (backend/internal/testenv: Dropbox, OneDrive; no
// real service can be reached here; E2E_DROPBOX_URL, E2E_ONEDRIVE_URL), and
// Settings → Cloud drives, where the user keeps their own OAuth client.
// This build has no client IDs: the add dialog says so and links to
// Settings; there the user saves their own Dropbox client ID and OneDrive
// client ID and secret (the secret is never shown again); the next
// sign-ins use them (the window opens the provider's page with that
// client_id, and the fake refuses any other ID, and OneDrive's token
// endpoint a missing secret); each storage appears, signed in. Clearing a
// client leaves the storage signed in with it working. Captured light and
// dark at 900×600 (docs/screenshots/settings-cloud-drives-900-*.png,
// storages-dropbox-no-client-900-*.png).
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { dismissWelcome, repo, startSession, until } from './harness.mjs';

const env = process.env;
const shots = join(repo, 'docs/screenshots');
let s;
let page;

const place = (name) => page.getByRole('navigation', { name: 'Places' }).getByRole('button', { name }).click();
const client = (kind) => page.locator(`[data-testid="oauth-client"][data-kind="${kind}"]`);

/** Both colour schemes of the page as it is now. */
async function shoot(name) {
  for (const scheme of ['light', 'dark']) {
    await page.emulateMedia({ colorScheme: scheme });
    await page.screenshot({ path: join(shots, `${name}-900-${scheme}.png`) });
  }
  await page.emulateMedia({ colorScheme: 'light' });
}

/** The URL the window asked the system browser to open next (BrowserOpenURL is caught). */
async function nextOpened() {
  return until('the window to open the sign-in page in the browser', () => page.evaluate(() => window.__opened?.shift()), 30_000);
}

/** What the user does in the system browser: open the provider's page and click Allow. */
async function approveInBrowser(url, service) {
  const tab = await s.context.newPage();
  try {
    await tab.goto(url);
    await tab.getByRole('heading', { name: `PgSafe would like to access the files in your ${service}` }).waitFor();
    await tab.getByRole('link', { name: 'Allow' }).click();
    await tab.getByRole('heading', { name: `PgSafe is signed in to ${service}` }).waitFor({ timeout: 30_000 });
  } finally {
    await tab.close();
  }
}

/** Add storage → a cloud drive → "Sign in with …" → Allow in the browser: the storage's row. */
async function signInAndAdd({ kind, service, company, name, authorize, clientId }) {
  await place('Storages');
  await page.getByRole('button', { name: 'Add storage' }).click();
  const dialog = page.getByRole('dialog');
  await dialog.getByText(service, { exact: true }).click();
  await dialog.getByLabel('Name').fill(name);
  await dialog.getByText(`It signs in with your own client (${clientId}), from Settings.`).waitFor();
  await dialog.getByRole('button', { name: `Sign in with ${company}` }).click();
  const url = await nextOpened();
  assert.ok(url.startsWith(authorize + '?'), `the window opened ${url} for ${kind}`);
  assert.equal(new URL(url).searchParams.get('client_id'), clientId, 'the sign-in uses the client saved in Settings');
  await dialog.getByTestId('signin-waiting').waitFor();
  await approveInBrowser(url, service);
  const row = page.locator(`[data-testid="storage-row"][data-name="${name}"]`);
  await row.waitFor({ timeout: 60_000 });
  await dialog.waitFor({ state: 'detached' });
  assert.match(await row.innerText(), new RegExp(`${service}: PgSafe \\(backup\\.owner@example\\.com\\)`));
  return row;
}

describe('Dropbox and OneDrive: your own OAuth client in Settings, then sign in through the browser', () => {
  before(async () => {
    assert.ok(env.E2E_DROPBOX_URL && env.E2E_ONEDRIVE_URL && env.E2E_ONEDRIVE_CLIENT_SECRET, 'run through `make test-e2e`, which starts the fake Dropbox and OneDrive');
    s = await startSession({
      viewport: { width: 900, height: 600 },
      env: { PGSAFE_OAUTH_BASE_DROPBOX: env.E2E_DROPBOX_URL, PGSAFE_OAUTH_BASE_ONEDRIVE: env.E2E_ONEDRIVE_URL },
    });
    page = s.page;
    await dismissWelcome(page);
    await page.waitForFunction(async () => (await window.go.ui.SystemService.KeyStatus()).ready === true, null, { timeout: 60_000, polling: 250 });
    // The system browser: the URLs the window asks it to open are kept for the test to open.
    await page.evaluate(() => {
      window.__opened = [];
      window.runtime.BrowserOpenURL = (u) => window.__opened.push(u);
    });
  });

  after(async () => {
    await s?.stop();
  });

  test('without a client the dialog points to Settings; clients saved there sign in; a cleared one leaves its storage working', async () => {
    // No client in this build: the dialog says where to give one, and offers no sign-in that would fail.
    await place('Storages');
    await page.getByRole('button', { name: 'Add storage' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByText('Dropbox', { exact: true }).click();
    await dialog.getByLabel('Name').fill('My Dropbox');
    const note = dialog.getByTestId('signin-no-client');
    await note.waitFor();
    assert.match(await note.innerText(), /This PgSafe was built without a Dropbox client ID\. Enter your own OAuth client in Settings, under Cloud drives/);
    assert.ok(await dialog.getByRole('button', { name: 'Sign in with Dropbox' }).isDisabled());
    await shoot('storages-dropbox-no-client');
    await note.getByRole('button', { name: 'Open Settings' }).click();
    await dialog.waitFor({ state: 'detached' });

    // Settings → Cloud drives, scrolled to.
    const heading = page.getByRole('heading', { name: 'Cloud drives' });
    await heading.waitFor();
    await until('the Cloud drives panel to be scrolled to', async () => {
      const box = await heading.boundingBox();
      return box && box.y >= 52 && box.y < 200; // below the header
    });
    for (const kind of ['gdrive', 'dropbox', 'onedrive']) {
      assert.match(await client(kind).innerText(), /None in this build/i); // a badge, in capitals
      assert.match(await client(kind).getByTestId('oauth-client-status').innerText(), /enter your own client below: this PgSafe has none/);
    }
    assert.equal(await client('dropbox').getByLabel('Dropbox client secret').count(), 0, 'Dropbox clients have no secret (PKCE)');

    await client('dropbox').getByLabel('Dropbox client ID').fill(env.E2E_DROPBOX_CLIENT_ID);
    await client('dropbox').getByRole('button', { name: 'Save' }).click();
    await until('the Dropbox client to be saved', async () =>
      (await client('dropbox').getByTestId('oauth-client-status').innerText()).includes(`Signs in with your own client ${env.E2E_DROPBOX_CLIENT_ID}`),
    );
    await client('onedrive').getByLabel('OneDrive client ID').fill(env.E2E_ONEDRIVE_CLIENT_ID);
    await client('onedrive').getByLabel('OneDrive client secret').fill(env.E2E_ONEDRIVE_CLIENT_SECRET);
    await client('onedrive').getByRole('button', { name: 'Save' }).click();
    await until('the OneDrive client to be saved', async () =>
      (await client('onedrive').getByTestId('oauth-client-status').innerText()).includes(`Signs in with your own client ${env.E2E_ONEDRIVE_CLIENT_ID} (secret saved ✓)`),
    );
    assert.equal(await client('onedrive').getByLabel('OneDrive client secret').inputValue(), '', 'the secret stays in the field after saving');
    await heading.evaluate((e) => e.closest('section').scrollIntoView({ block: 'start' }));
    await shoot('settings-cloud-drives');

    // The secret never comes back: not in the page, not from the Go side.
    await page.reload({ waitUntil: 'domcontentloaded' });
    await page.waitForFunction(async () => (await window.go.ui.SystemService.KeyStatus()).ready === true, null, { timeout: 60_000, polling: 250 });
    await page.evaluate(() => {
      window.__opened = [];
      window.runtime.BrowserOpenURL = (u) => window.__opened.push(u);
    });
    const listed = await page.evaluate(() => window.go.ui.StorageService.OAuthClients());
    assert.deepEqual(
      listed.map((c) => [c.kind, c.clientId, c.secretSet]),
      [
        ['gdrive', '', false],
        ['dropbox', env.E2E_DROPBOX_CLIENT_ID, false],
        ['onedrive', env.E2E_ONEDRIVE_CLIENT_ID, true],
      ],
    );
    assert.ok(!JSON.stringify(listed).includes(env.E2E_ONEDRIVE_CLIENT_SECRET), 'the Go side returned the client secret');

    // The next sign-ins use them: the fakes accept no other client ID, and OneDrive's token endpoint no missing secret.
    const box = await signInAndAdd({
      kind: 'dropbox', service: 'Dropbox', company: 'Dropbox', name: 'My Dropbox', authorize: env.E2E_DROPBOX_URL + '/oauth2/authorize', clientId: env.E2E_DROPBOX_CLIENT_ID,
    });
    await shoot('storages-dropbox-added');
    await signInAndAdd({
      kind: 'onedrive', service: 'OneDrive', company: 'Microsoft', name: 'My OneDrive', authorize: env.E2E_ONEDRIVE_URL + '/common/oauth2/v2.0/authorize', clientId: env.E2E_ONEDRIVE_CLIENT_ID,
    });
    assert.ok(!(await page.content()).includes(env.E2E_ONEDRIVE_CLIENT_SECRET));

    // Cleared in Settings: the next sign-in would need a client again; the storage keeps the one it signed in with.
    await place('Settings');
    await client('dropbox').getByRole('button', { name: 'Clear' }).click();
    await until('the Dropbox client to be cleared', async () =>
      (await client('dropbox').getByTestId('oauth-client-status').innerText()).includes('To sign in to Dropbox, enter your own client below'),
    );
    await place('Storages');
    await box.getByRole('button', { name: 'Test' }).click();
    const result = box.getByTestId('storage-test-result');
    await result.waitFor({ timeout: 60_000 });
    assert.match(await result.innerText(), /Works: wrote, read back and deleted a test file/);
  });
});
