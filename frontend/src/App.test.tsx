import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import * as api from './api';
import { App } from './App';
import { renderWithTheme } from './test/render';

vi.mock('./api', async (importOriginal) => {
  const real = await importOriginal<typeof import('./api')>();
  return {
    ...real,
    getAppInfo: vi.fn(),
    getClientTools: vi.fn(),
    copyText: vi.fn(),
    getKeyStatus: vi.fn(),
    retryOpen: vi.fn(),
    acceptSettings: vi.fn(),
    onKeyStatus: vi.fn(() => () => {}),
    // A kit was saved: no welcome over the screens tested here (kit.test.tsx tests it).
    recoveryKit: vi.fn(async () => ({ keyId: '3f9a0c1d2e4b5a69', needed: true, keyCreated: false, saved: true, savedAt: '2026-01-02T10:00:00Z', postponed: false, welcome: false, defaultPath: '' })),
    listDatabases: vi.fn(),
    testDatabase: vi.fn(),
    addDatabase: vi.fn(),
    listActivity: vi.fn(),
    verifyActivity: vi.fn(),
    oauthClients: vi.fn(async () => []),
  };
});

const getAppInfo = vi.mocked(api.getAppInfo);
const getClientTools = vi.mocked(api.getClientTools);

const info: api.AppInfo = {
  name: 'PgSafe',
  version: '1.4.2',
  commit: 'abc123def456',
  goVersion: 'go1.26.8',
  platform: 'linux/amd64',
  settingsDir: '/home/ada/.config/PgSafe',
};

const two: api.ClientTools = {
  installs: [
    {
      dir: '/usr/lib/postgresql/17/bin',
      version: { major: 17, minor: 6 },
      pgDump: '/usr/lib/postgresql/17/bin/pg_dump',
      pgRestore: '/usr/lib/postgresql/17/bin/pg_restore',
      psql: '/usr/lib/postgresql/17/bin/psql',
    },
    {
      dir: '/opt/postgresql15/bin',
      version: { major: 15, minor: 18 },
      pgDump: '/opt/postgresql15/bin/pg_dump',
    },
  ],
  newest: 17,
};

const none: api.ClientTools = {
  installs: [],
  newest: 0,
  advice: 'Install the PostgreSQL client tools: `sudo apt install postgresql-client` (Debian/Ubuntu).',
};

function deferred<T>() {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

beforeEach(() => {
  getAppInfo.mockResolvedValue(info);
  getClientTools.mockResolvedValue(two);
  vi.mocked(api.getKeyStatus).mockResolvedValue({ ready: true, keyId: '3f9a0c1d2e4b5a69', source: 'keychain' });
  vi.mocked(api.listDatabases).mockResolvedValue([]);
  vi.mocked(api.listActivity).mockResolvedValue([]);
});

describe('header', () => {
  it('shows the version the Go side reports', async () => {
    renderWithTheme(<App />);
    expect(await screen.findByTestId('app-version')).toHaveTextContent(/^1\.4\.2$/);
    expect(screen.getByRole('banner')).toHaveTextContent('PgSafe');
  });

  it('shows no made-up version while AppInfo fails', async () => {
    getAppInfo.mockRejectedValue(new Error('boom'));
    renderWithTheme(<App />);
    await screen.findByText('No databases yet');
    await waitFor(() => expect(getAppInfo).toHaveBeenCalled());
    expect(screen.queryByTestId('app-version')).not.toBeInTheDocument();
  });
});

describe('Overview', () => {
  it('explains PgSafe when there are no databases and reports the newest pg_dump', async () => {
    renderWithTheme(<App />);
    expect(screen.getByRole('heading', { name: 'No databases yet' })).toBeInTheDocument();
    const line = await screen.findByText(/pg_dump 17\.6 found/);
    expect(line).toHaveTextContent('ready for servers running PostgreSQL 17 or older');
    expect(screen.getByText('/home/ada/.config/PgSafe')).toBeInTheDocument();
    expect(screen.getByRole('button', { name: /add database/i })).toBeInTheDocument();
  });

  it('warns when no pg_dump is found', async () => {
    getClientTools.mockResolvedValue(none);
    renderWithTheme(<App />);
    expect(await screen.findByText(/No pg_dump found/)).toBeInTheDocument();
    expect(screen.getByTestId('overview-tools')).toHaveAttribute('data-tone', 'warn');
  });

  it('"Details in Settings" opens Settings', async () => {
    const user = userEvent.setup();
    renderWithTheme(<App />);
    await user.click(screen.getByRole('button', { name: 'Details in Settings' }));
    expect(screen.getByRole('heading', { name: 'Settings', level: 1 })).toBeInTheDocument();
  });
});

describe('Settings → PostgreSQL client tools', () => {
  it('lists every install with its version, folder and programs', async () => {
    renderWithTheme(<App initialPlace="settings" />);
    const rows = await screen.findAllByTestId('tool-install');
    expect(rows).toHaveLength(2);

    const [newest, older] = rows.map((r) => within(r));
    expect(newest.getByTestId('tool-version')).toHaveTextContent(/^17\.6$/);
    expect(newest.getByTestId('tool-dir')).toHaveTextContent('/usr/lib/postgresql/17/bin');
    expect(newest.getByText('Newest')).toBeInTheDocument();
    expect(newest.getByLabelText('pg_dump found at /usr/lib/postgresql/17/bin/pg_dump')).toBeInTheDocument();
    expect(newest.getByLabelText('pg_restore found at /usr/lib/postgresql/17/bin/pg_restore')).toBeInTheDocument();

    expect(older.getByTestId('tool-version')).toHaveTextContent(/^15\.18$/);
    expect(older.getByTestId('tool-dir')).toHaveTextContent('/opt/postgresql15/bin');
    expect(older.queryByText('Newest')).not.toBeInTheDocument();
    expect(older.getByTestId('program-pg_restore')).toHaveAttribute('data-found', 'false');
    expect(older.getByText('no pg_restore')).toBeInTheDocument();

    expect(screen.getByTestId('tools-summary')).toHaveTextContent('PostgreSQL 17 or older — 2 installs found.');
    // One install has pg_restore, so restores are possible: no warning.
    expect(screen.queryByText('No pg_restore found')).not.toBeInTheDocument();
  });

  it('shows pre-release versions as PostgreSQL writes them', async () => {
    getClientTools.mockResolvedValue({
      installs: [{ dir: '/usr/lib/postgresql/19/bin', version: { major: 19, minor: 0, suffix: 'beta1' }, pgDump: '/usr/lib/postgresql/19/bin/pg_dump' }],
      newest: 19,
    });
    renderWithTheme(<App initialPlace="settings" />);
    expect(await screen.findByTestId('tool-version')).toHaveTextContent(/^19beta1$/);
    expect(screen.getByText('No pg_restore found')).toBeInTheDocument();
  });

  it('shows the advice when no pg_dump is found', async () => {
    getClientTools.mockResolvedValue(none);
    renderWithTheme(<App initialPlace="settings" />);
    const box = await screen.findByTestId('tools-none');
    expect(box).toHaveTextContent('No pg_dump found on this machine');
    const advice = within(box).getByTestId('tools-advice');
    expect(advice).toHaveTextContent('Install the PostgreSQL client tools: sudo apt install postgresql-client (Debian/Ubuntu).');
    expect(within(advice).getByText('sudo apt install postgresql-client').tagName).toBe('CODE');
    expect(screen.queryAllByTestId('tool-install')).toHaveLength(0);
  });

  it('says what went wrong in words, with the raw error one click away, and retries', async () => {
    const user = userEvent.setup();
    getClientTools.mockRejectedValueOnce(
      new api.ApiError(
        'Couldn’t look for PostgreSQL client tools',
        'Permission denied while reading /usr/lib/postgresql.',
        'open /usr/lib/postgresql: permission denied',
      ),
    );
    renderWithTheme(<App initialPlace="settings" />);

    const alert = await screen.findByRole('alert');
    expect(alert).toHaveTextContent('Couldn’t look for PostgreSQL client tools');
    expect(alert).toHaveTextContent('Permission denied while reading /usr/lib/postgresql.');
    expect(within(alert).queryByText('open /usr/lib/postgresql: permission denied')).not.toBeInTheDocument();

    await user.click(within(alert).getByRole('button', { name: 'Show details' }));
    expect(within(alert).getByText('open /usr/lib/postgresql: permission denied')).toBeVisible();

    await user.click(within(alert).getByRole('button', { name: 'Try again' }));
    expect(await screen.findAllByTestId('tool-install')).toHaveLength(2);
    expect(screen.queryByRole('alert')).not.toBeInTheDocument();
    expect(getClientTools).toHaveBeenCalledTimes(2);
  });

  it('turns a raw rejection from Go into a sentence', async () => {
    getClientTools.mockRejectedValue('context deadline exceeded');
    renderWithTheme(<App initialPlace="settings" />);
    const alert = await screen.findByRole('alert');
    expect(alert).toHaveTextContent('Couldn’t look for PostgreSQL client tools');
    expect(alert).toHaveTextContent('Context deadline exceeded.');
    // The detail would only repeat the message: not offered.
    expect(within(alert).queryByRole('button', { name: 'Show details' })).not.toBeInTheDocument();
    expect(within(alert).getByRole('button', { name: 'Try again' })).toBeInTheDocument();
  });

  it('Rescan asks again and shows the new answer', async () => {
    const user = userEvent.setup();
    getClientTools.mockResolvedValueOnce(none);
    renderWithTheme(<App initialPlace="settings" />);
    await screen.findByTestId('tools-none');

    const next = deferred<api.ClientTools>();
    getClientTools.mockReturnValueOnce(next.promise);
    await user.click(screen.getByRole('button', { name: 'Rescan' }));
    expect(getClientTools).toHaveBeenCalledTimes(2);
    // While it runs, the button says so.
    expect(screen.getByRole('button', { name: 'Rescan' })).toHaveAttribute('data-loading', 'true');

    next.resolve(two);
    expect(await screen.findAllByTestId('tool-install')).toHaveLength(2);
    expect(screen.queryByTestId('tools-none')).not.toBeInTheDocument();
  });

  it('cannot start a second scan while one runs', async () => {
    getClientTools.mockReturnValueOnce(deferred<api.ClientTools>().promise);
    renderWithTheme(<App initialPlace="settings" />);
    expect(screen.getByRole('button', { name: 'Rescan' })).toBeDisabled();
    expect(screen.getByText('Looking for pg_dump on this machine…')).toBeInTheDocument();
  });
});

describe('Settings → data and about', () => {
  it('shows where data lives and the build', async () => {
    renderWithTheme(<App initialPlace="settings" />);
    expect(await screen.findByTestId('settings-dir')).toHaveTextContent(/^\/home\/ada\/\.config\/PgSafe$/);
    expect(screen.getByTestId('about-version')).toHaveTextContent('1.4.2');
    expect(screen.getByText('abc123def456')).toBeInTheDocument();
    expect(screen.getByText('linux/amd64, built with go1.26.8')).toBeInTheDocument();
  });

  it('copies the settings folder', async () => {
    const user = userEvent.setup();
    vi.mocked(api.copyText).mockResolvedValue(true);
    renderWithTheme(<App initialPlace="settings" />);
    await screen.findByTestId('settings-dir');
    await user.click(screen.getByRole('button', { name: 'Copy settings folder' }));
    expect(api.copyText).toHaveBeenCalledWith('/home/ada/.config/PgSafe');
  });

  it('explains when AppInfo fails', async () => {
    getAppInfo.mockRejectedValue(new TypeError("Cannot read properties of undefined (reading 'ui')"));
    renderWithTheme(<App initialPlace="settings" />);
    const alerts = await screen.findAllByRole('alert');
    expect(alerts[0]).toHaveTextContent('Couldn’t read PgSafe’s version');
    expect(alerts[0]).toHaveTextContent('This window lost its connection to PgSafe');
  });
});

describe('damaged settings', () => {
  it('says what happened and what is safe, and goes on with empty settings only when asked', async () => {
    const error =
      'the settings database /home/ada/.config/PgSafe/pgsafe.db is empty (0 bytes) although PgSafe has used it before: it was cut or replaced. It was moved to /home/ada/.config/PgSafe/damaged-20261206T020000.000Z, and PgSafe starts with empty settings from now on. Backups already made are safe in their storages, and the master key is still in the keychain: add your storages again to see their backups and restore them';
    vi.mocked(api.getKeyStatus).mockResolvedValue({
      ready: false,
      settingsDamaged: true,
      settingsPath: '/home/ada/.config/PgSafe/pgsafe.db',
      damagedReason: 'is empty (0 bytes) although PgSafe has used it before: it was cut or replaced',
      keptAs: '/home/ada/.config/PgSafe/damaged-20261206T020000.000Z',
      error,
    });
    vi.mocked(api.retryOpen).mockResolvedValue({ ready: true, keyId: '3f9a0c1d2e4b5a69', source: 'keychain' });
    renderWithTheme(<App />);
    const banner = await screen.findByTestId('settings-damaged');
    expect(within(banner).getByText('PgSafe’s settings were damaged and set aside')).toBeInTheDocument();
    expect(within(banner).getByText(/safe in their storages/)).toBeInTheDocument();
    expect(within(banner).getByText(/is empty \(0 bytes\)/)).toBeInTheDocument();
    expect(within(banner).getByText('/home/ada/.config/PgSafe/damaged-20261206T020000.000Z')).toBeInTheDocument();
    expect(screen.queryByTestId('key-error')).not.toBeInTheDocument();
    expect(api.retryOpen).not.toHaveBeenCalled();
    await userEvent.click(within(banner).getByRole('button', { name: 'Continue with empty settings' }));
    await waitFor(() => expect(api.retryOpen).toHaveBeenCalledTimes(1));
  });
});

describe('settings changed outside PgSafe', () => {
  it('says so and accepts them only when the user says they made the change', async () => {
    vi.mocked(api.getKeyStatus).mockResolvedValue({
      ready: false,
      settingsModified: true,
      settingsPath: '/home/ada/.config/PgSafe/pgsafe.db',
      modifiedDetail: 'it is an older copy (change 12; PgSafe last wrote change 15)',
      error: 'settings database /home/ada/.config/PgSafe/pgsafe.db was modified outside PgSafe: it is an older copy (change 12; PgSafe last wrote change 15).',
    });
    vi.mocked(api.acceptSettings).mockResolvedValue({ ready: true, keyId: '3f9a0c1d2e4b5a69', source: 'keychain' });
    renderWithTheme(<App />);
    const banner = await screen.findByTestId('settings-modified');
    expect(within(banner).getByText(/older copy \(change 12/)).toBeInTheDocument();
    expect(screen.queryByTestId('key-error')).not.toBeInTheDocument();
    expect(api.acceptSettings).not.toHaveBeenCalled();
    await userEvent.click(within(banner).getByRole('button', { name: 'I changed it: accept the settings as they are' }));
    await waitFor(() => expect(api.acceptSettings).toHaveBeenCalledTimes(1));
  });
});
