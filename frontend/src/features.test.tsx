import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import * as api from './api';
import { App } from './App';
import { renderWithTheme } from './test/render';
import { resetJobsStore } from './stores/jobs';

vi.mock('./api', async (importOriginal) => {
  const real = await importOriginal<typeof import('./api')>();
  return {
    ...real,
    getAppInfo: vi.fn(),
    getClientTools: vi.fn(),
    getKeyStatus: vi.fn(),
    onKeyStatus: vi.fn(() => () => {}),
    listDatabases: vi.fn(),
    databaseStatus: vi.fn(),
    onStateEvents: vi.fn(() => () => {}),
    onEngineEvent: vi.fn(() => () => {}),
    lastCheck: vi.fn(),
    testDatabase: vi.fn(),
    addDatabase: vi.fn(),
    listActivity: vi.fn(),
    verifyActivity: vi.fn(),
    listImportCandidates: vi.fn(),
    sshHostKey: vi.fn(),
  };
});

const m = vi.mocked;

const writeCheck: api.CheckResult = {
  server: { version: '15.18', major: 15, database: 'shop', user: 'postgres', database_size: 8_000_000, encoding: 'UTF8', ssl: false, latency: 2e6 },
  report: {
    verdict: 'write_access',
    findings: [
      { code: 'superuser', severity: 'write', object: 'role postgres', detail: 'This role is a superuser: it can do anything.', fix_sql: 'ALTER ROLE postgres NOSUPERUSER;' },
    ],
    missing_read: [],
  },
};

beforeEach(() => {
  resetJobsStore();
  m(api.getAppInfo).mockResolvedValue({ name: 'PgSafe', version: '1', commit: 'c', goVersion: 'go', platform: 'linux', settingsDir: '/x' });
  m(api.getClientTools).mockResolvedValue({ installs: [], newest: 0 });
  m(api.getKeyStatus).mockResolvedValue({ ready: true, keyId: '3f9a0c1d2e4b5a69', source: 'keychain' });
  m(api.listDatabases).mockResolvedValue([]);
  m(api.databaseStatus).mockResolvedValue([]);
  m(api.lastCheck).mockResolvedValue({ kind: '', when: '0001-01-01T00:00:00Z', ok: false, backupId: '' });
  m(api.listActivity).mockResolvedValue([]);
  m(api.addDatabase).mockResolvedValue(undefined);
  m(api.listImportCandidates).mockResolvedValue([]);
});

describe('databases', () => {
  it('lists cards without ever showing a password', async () => {
    m(api.listDatabases).mockResolvedValue([
      { id: 1, name: 'Shop', host: 'db.example.com', port: 5432, dbname: 'shop', user: 'reader', passwordSet: true, sslmode: 'require', ssh: false, countRows: true },
    ]);
    renderWithTheme(<App />);
    const card = await screen.findByTestId('database-card');
    expect(card).toHaveTextContent('Shop');
    expect(card).toHaveTextContent('reader@db.example.com:5432/shop');
    expect(card).not.toHaveTextContent(/password/i);
  });

  it('a card shows its database’s state from the engine: a failed backup is never shown as safe', async () => {
    m(api.listDatabases).mockResolvedValue([
      { id: 1, name: 'Shop', host: 'db.example.com', port: 5432, dbname: 'shop', user: 'reader', passwordSet: true, sslmode: 'require', ssh: false, countRows: true },
      { id: 2, name: 'Blog', host: 'db.example.com', port: 5432, dbname: 'blog', user: 'reader', passwordSet: true, sslmode: 'require', ssh: false, countRows: true },
    ]);
    m(api.databaseStatus).mockResolvedValue([
      {
        name: 'Shop',
        state: 'failing',
        lastGoodBackup: '2026-12-05T02:00:00Z',
        lastGoodSize: 34_800_000,
        lastBackup: { id: 'b2', status: 'failed', started: '2026-12-06T02:00:00Z', error: 'password authentication failed' },
        nextRun: null,
        recent: [],
        reasons: [
          { code: 'backup_failed', severity: 'failing', message: 'The last backup failed: the server refused the password', since: '2026-12-06T02:00:00Z', action: 'See why, fix it, and back up again' },
          { code: 'overdue', severity: 'attention', message: 'No good backup for 31 h', since: '2026-12-06T02:00:00Z', action: 'Back up now' },
        ],
      },
      { name: 'Blog', state: 'protected', lastGoodBackup: '2026-12-06T02:00:00Z', lastGoodSize: 1_000_000, reasons: [], lastBackup: null, nextRun: null, recent: [] },
    ]);
    renderWithTheme(<App />);
    const cards = await screen.findAllByTestId('database-card');
    const shop = cards.find((c) => c.dataset.name === 'Shop')!;
    const blog = cards.find((c) => c.dataset.name === 'Blog')!;
    await waitFor(() => expect(within(shop).getByTestId('state-dot')).toHaveAttribute('data-state', 'failing'));
    expect(within(shop).getByTestId('state-dot')).toHaveAttribute('aria-label', 'Failing');
    expect(within(shop).getByTestId('state-line')).toHaveTextContent('Failing: The last backup failed: the server refused the password');
    expect(within(shop).getByTestId('card-fix')).toHaveTextContent('See why…');
    expect(within(shop).getByTestId('card-fix')).toHaveAttribute('data-action', 'See why, fix it, and back up again');
    expect(within(shop).getByTestId('state-line')).toHaveTextContent('and 1 more on its page');
    expect(within(blog).getByTestId('state-dot')).toHaveAttribute('data-state', 'protected');
    expect(within(blog).getByTestId('state-line')).toHaveTextContent(/^Protected$/);
    expect(within(blog).getByTestId('card-history')).toHaveTextContent('last good backup');
    expect(within(blog).queryByTestId('card-fix')).toBeNull();
    // Failing first, and a banner says which database and why.
    expect(cards[0].dataset.name).toBe('Shop');
    expect(screen.getByTestId('failing-banner')).toHaveTextContent('Shop is not being backed up safely');
  });

  it('a card follows the engine’s status events without reading again', async () => {
    let emit: (ev: api.EngineEvent) => void = () => {};
    m(api.onEngineEvent).mockImplementation((fn) => {
      emit = fn;
      return () => {};
    });
    m(api.listDatabases).mockResolvedValue([
      { id: 1, name: 'Shop', host: 'db.example.com', port: 5432, dbname: 'shop', user: 'reader', passwordSet: true, sslmode: 'require', ssh: false, countRows: true, storageIds: [1] },
    ]);
    const good: api.DatabaseStatus = { name: 'Shop', state: 'protected', lastGoodBackup: '2026-12-06T02:00:00Z', lastGoodSize: 1_000_000, reasons: [], lastBackup: null, nextRun: null, recent: [] };
    m(api.databaseStatus).mockResolvedValue([good]);
    renderWithTheme(<App />);
    const card = await screen.findByTestId('database-card');
    await waitFor(() => expect(card).toHaveAttribute('data-state', 'protected'));
    const reads = m(api.databaseStatus).mock.calls.length;

    emit({ type: 'job.started', job: 'backup', jobId: 'b9', database: 'Shop', origin: 'scheduled', at: '2026-12-06T03:00:00Z' });
    expect(await within(card).findByTestId('card-running')).toHaveTextContent('Backing up');
    emit({ type: 'job.finished', job: 'backup', jobId: 'b9', database: 'Shop', origin: 'scheduled', at: '2026-12-06T03:00:01Z', outcome: 'failed', error: 'password authentication failed' });
    emit({
      type: 'status.changed',
      database: 'Shop',
      at: '2026-12-06T03:00:01Z',
      status: { ...good, state: 'failing', reasons: [{ code: 'backup_failed', severity: 'failing', message: 'The last backup failed: the server refused the password', since: '2026-12-06T03:00:00Z', action: 'See why, fix it, and back up again' }] },
    });
    await waitFor(() => expect(card).toHaveAttribute('data-state', 'failing'));
    expect(within(card).queryByTestId('card-running')).toBeNull();
    expect(within(card).getByTestId('state-line')).toHaveTextContent('Failing: The last backup failed: the server refused the password');
    expect(m(api.databaseStatus).mock.calls.length).toBe(reads);
  });

  it('the wizard shows the audit and needs a deliberate choice to save a write-capable role', async () => {
    const user = userEvent.setup();
    m(api.testDatabase).mockResolvedValue(writeCheck);
    renderWithTheme(<App />);
    await user.click(await screen.findByRole('button', { name: /add database/i }));
    const dialog = await screen.findByRole('dialog');
    await user.type(within(dialog).getByLabelText(/Name in PgSafe/), 'Shop');
    await user.type(within(dialog).getByLabelText('Database'), 'shop');
    await user.type(within(dialog).getByLabelText('User'), 'postgres');
    await user.type(within(dialog).getByLabelText('Password'), 'pw-never-shown');
    await user.click(within(dialog).getByRole('button', { name: /test and check/i }));
    expect(await within(dialog).findByTestId('verdict')).toHaveTextContent('Has write access');
    expect(m(api.testDatabase).mock.calls[0][0]).toMatchObject({ name: 'Shop', dbname: 'shop', user: 'postgres', password: 'pw-never-shown', url: '' });
    expect(within(dialog).getByText('role postgres')).toBeInTheDocument();
    const save = within(dialog).getByRole('button', { name: 'Save database' });
    expect(save).toBeDisabled();
    await user.click(within(dialog).getByLabelText(/Proceed with this write-capable role anyway/));
    expect(save).toBeEnabled();
    await user.click(save);
    await waitFor(() => expect(api.addDatabase).toHaveBeenCalledWith(expect.objectContaining({ name: 'Shop' }), true));
    expect(document.body.textContent).not.toContain('pw-never-shown');
  });
});

describe('wizard: saved connections and SSH', () => {
  it('fills the fields from pg_service.conf and leaves the password on the Go side', async () => {
    const user = userEvent.setup();
    m(api.listImportCandidates).mockResolvedValue([
      { ref: 'service:shop-prod', source: '/home/ada/.pg_service.conf', label: 'shop-prod', host: 'db.example.com', port: 5433, database: 'shop', user: 'backup', sslmode: 'require', hasPassword: true },
    ]);
    m(api.testDatabase).mockResolvedValue({ ...writeCheck, report: { verdict: 'read_only', findings: [], missing_read: [] } });
    renderWithTheme(<App />);
    await user.click(await screen.findByRole('button', { name: /add database/i }));
    const dialog = await screen.findByRole('dialog');
    await user.click(await within(dialog).findByTestId('import-select'));
    await user.click(await screen.findByRole('option', { name: 'shop-prod (password saved)' }));
    expect(within(dialog).getByLabelText('Host')).toHaveValue('db.example.com');
    expect(within(dialog).getByLabelText(/Name in PgSafe/)).toHaveValue('shop-prod');
    await user.click(within(dialog).getByRole('button', { name: /test and check/i }));
    await waitFor(() => expect(api.testDatabase).toHaveBeenCalled());
    expect(m(api.testDatabase).mock.calls[0][0]).toMatchObject({ importRef: 'service:shop-prod', host: 'db.example.com', port: 5433, user: 'backup', password: '', sslmode: 'require' });
  });

  it('an SSH bastion must have its host key checked and trusted before testing', async () => {
    const user = userEvent.setup();
    m(api.sshHostKey).mockResolvedValue({ fingerprint: 'SHA256:abc123', key: 'ssh-ed25519 AAAAkey' });
    m(api.testDatabase).mockResolvedValue({ ...writeCheck, report: { verdict: 'read_only', findings: [], missing_read: [] } });
    renderWithTheme(<App />);
    await user.click(await screen.findByRole('button', { name: /add database/i }));
    const dialog = await screen.findByRole('dialog');
    await user.type(within(dialog).getByLabelText(/Name in PgSafe/), 'Behind');
    await user.type(within(dialog).getByLabelText('Database'), 'shop');
    await user.type(within(dialog).getByLabelText('User'), 'reader');
    await user.click(within(dialog).getByLabelText('Connect through an SSH bastion'));
    await user.type(within(dialog).getByLabelText('SSH host'), 'bastion.example.com');
    await user.type(within(dialog).getByLabelText('SSH user'), 'ada');
    const test = within(dialog).getByRole('button', { name: /test and check/i });
    expect(test).toBeDisabled();
    await user.click(within(dialog).getByRole('button', { name: /host key/i }));
    expect(await within(dialog).findByText('SHA256:abc123')).toBeInTheDocument();
    await user.click(within(dialog).getByRole('button', { name: /trust this key/i }));
    expect(test).toBeEnabled();
    await user.click(test);
    await waitFor(() => expect(api.testDatabase).toHaveBeenCalled());
    expect(m(api.testDatabase).mock.calls[0][0].ssh).toMatchObject({ host: 'bastion.example.com', user: 'ada', hostKey: 'ssh-ed25519 AAAAkey' });
  });
});

describe('activity', () => {
  it('lists entries and reports where a broken log breaks', async () => {
    const user = userEvent.setup();
    m(api.listActivity).mockResolvedValue([
      { seq: 2, at: '2026-11-23T06:00:00Z', actor: 'ada', action: 'database.created', outcome: 'ok', target: 'Shop', fields: { verdict: 'read_only' } },
      { seq: 1, at: '2026-11-23T05:59:00Z', actor: 'ada', action: 'app.started', outcome: 'ok' },
    ]);
    m(api.verifyActivity).mockResolvedValue({ intact: false, entries: 5, goodTo: 2, brokenAt: 3, kind: 'gap', detail: 'entry 4 follows entry 2' });
    renderWithTheme(<App initialPlace="activity" />);
    expect(await screen.findAllByTestId('activity-row')).toHaveLength(2);
    expect(screen.getByText('database.created')).toBeInTheDocument();
    await user.click(screen.getByRole('button', { name: 'Verify log' }));
    expect(await screen.findByTestId('verify-result')).toHaveTextContent('broken at entry 3');
  });
});

describe('master key', () => {
  it('says why nothing can be saved when the keychain is unavailable', async () => {
    m(api.getKeyStatus).mockResolvedValue({ ready: false, error: 'the system keychain is not available (the keychain is locked): unlock it' });
    renderWithTheme(<App />);
    m(api.listDatabases).mockRejectedValue(new api.ApiError('Couldn’t list your databases', 'not open', 'not open'));
    expect(await screen.findByTestId('key-error')).toHaveTextContent('keychain is locked');
    // One explanation, not one per screen part; nothing offered that cannot work.
    expect(screen.queryByText('Couldn’t list your databases')).not.toBeInTheDocument();
    expect(screen.getByRole('button', { name: /add database/i })).toBeDisabled();
  });
});
