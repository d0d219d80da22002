import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import * as api from './api';
import { EditDatabaseDialog } from './components/EditDatabaseDialog';
import { ManageDatabasePanel, RoleWarning } from './components/ManageDatabasePanel';
import { RemoveDatabaseDialog } from './components/RemoveDatabaseDialog';
import { RenameDatabaseDialog } from './components/RenameDatabaseDialog';
import { renderWithTheme } from './test/render';

vi.mock('./api', async (importOriginal) => {
  const real = await importOriginal<typeof import('./api')>();
  return {
    ...real,
    getConnection: vi.fn(),
    testConnectionChange: vi.fn(),
    updateConnection: vi.fn(),
    cancelConnectionCheck: vi.fn(),
    recheckDatabase: vi.fn(),
    renameDatabase: vi.fn(),
    setCountRows: vi.fn(),
    removeDatabase: vi.fn(),
    switchToReadOnlyRole: vi.fn(),
    planRoleSetup: vi.fn(),
    sshHostKey: vi.fn(),
  };
});

const m = vi.mocked;

const stored: api.ConnectionView = {
  name: 'Shop', host: 'db.example.com', port: 5432, dbname: 'shop', user: 'reader', passwordSet: true, sslmode: 'require', sslRootCert: '', sslCert: '',
  sslKey: '', ssh: null, countRows: true, storages: ['NAS'], verdict: 'read_only', checkedAt: '2026-01-02T03:04:05Z', writeAccess: '',
};

const server: api.ServerInfo = { version: '15.18', major: 15, database: 'shop', user: 'reader', database_size: 8_000_000, encoding: 'UTF8', ssl: true, latency: 2e6 };
const readOnly: api.CheckResult = { server, report: { verdict: 'read_only', findings: [], missing_read: [] } };
const writes: api.CheckResult = {
  server,
  report: {
    verdict: 'write_access',
    findings: [{ code: 'table_privilege', severity: 'write', object: 'table public.orders', detail: 'The role can INSERT into it.', fix_sql: 'REVOKE INSERT ON public.orders FROM reader;' }],
    missing_read: [],
  },
};

beforeEach(() => {
  vi.clearAllMocks();
  m(api.getConnection).mockResolvedValue(stored);
  m(api.cancelConnectionCheck).mockResolvedValue(undefined);
  m(api.setCountRows).mockResolvedValue(undefined);
});

describe('edit connection', () => {
  it('is prefilled without the password, and an empty password keeps the stored one', async () => {
    m(api.testConnectionChange).mockResolvedValue(readOnly);
    m(api.updateConnection).mockResolvedValue({ name: 'Shop', changed: ['host'], report: readOnly.report, server });
    const onSaved = vi.fn();
    const onClose = vi.fn();
    renderWithTheme(<EditDatabaseDialog conn={stored} onClose={onClose} onSaved={onSaved} />);
    const dialog = await screen.findByRole('dialog');
    expect(within(dialog).getByLabelText('Host')).toHaveValue('db.example.com');
    expect(within(dialog).getByLabelText('User')).toHaveValue('reader');
    const pw = within(dialog).getByLabelText('Password', { exact: false, selector: 'input' });
    expect(pw).toHaveValue('');
    expect(pw).toHaveAttribute('placeholder', 'leave empty to keep the stored password');

    const host = within(dialog).getByLabelText('Host');
    await userEvent.clear(host);
    await userEvent.type(host, 'db2.example.com');
    await userEvent.click(within(dialog).getByRole('button', { name: 'Test and check privileges' }));
    await within(dialog).findByTestId('server-info');
    expect(m(api.testConnectionChange).mock.calls[0][0]).toBe('Shop');
    expect(m(api.testConnectionChange).mock.calls[0][1]).toMatchObject({ host: 'db2.example.com', password: '', user: 'reader' });
    await userEvent.click(within(dialog).getByRole('button', { name: 'Save connection' }));
    await waitFor(() => expect(onSaved).toHaveBeenCalledWith(expect.objectContaining({ changed: ['host'] })));
    expect(m(api.updateConnection)).toHaveBeenCalledWith('Shop', expect.objectContaining({ host: 'db2.example.com', password: '' }), false);
    expect(onClose).toHaveBeenCalled();
  });

  it('a wrong password is refused with the server’s reason and nothing is saved', async () => {
    m(api.testConnectionChange).mockRejectedValue(new api.ApiError('Couldn’t test the connection', 'Password authentication failed for user "reader".', ''));
    renderWithTheme(<EditDatabaseDialog conn={stored} onClose={() => {}} onSaved={() => {}} />);
    const dialog = await screen.findByRole('dialog');
    await userEvent.type(within(dialog).getByLabelText('Password', { exact: false, selector: 'input' }), 'wrong');
    await userEvent.click(within(dialog).getByRole('button', { name: 'Test and check privileges' }));
    expect(await within(dialog).findByRole('alert')).toHaveTextContent('Password authentication failed');
    expect(within(dialog).queryByTestId('server-info')).toBeNull();
    expect(m(api.updateConnection)).not.toHaveBeenCalled();
  });

  it('shows “Connecting to host:port…” while it checks, and Cancel stops it', async () => {
    let reject: (e: unknown) => void = () => {};
    m(api.testConnectionChange).mockReturnValue(new Promise((_, rj) => (reject = rj)));
    m(api.cancelConnectionCheck).mockImplementation(async () => reject(new api.ApiError('Couldn’t test the connection', 'Cancelled: nothing was changed.', '')));
    renderWithTheme(<EditDatabaseDialog conn={stored} onClose={() => {}} onSaved={() => {}} />);
    const dialog = await screen.findByRole('dialog');
    await userEvent.click(within(dialog).getByRole('button', { name: 'Test and check privileges' }));
    const notice = await within(dialog).findByTestId('connecting');
    expect(notice).toHaveTextContent('Connecting to db.example.com:5432…');
    await userEvent.click(within(notice).getByRole('button', { name: 'Cancel' }));
    expect(m(api.cancelConnectionCheck)).toHaveBeenCalledWith('Shop');
    expect(await within(dialog).findByRole('alert')).toHaveTextContent('Cancelled');
    expect(within(dialog).queryByTestId('connecting')).toBeNull();
  });

  it('a pasted URL fills the fields and shows the host and database, the password masked', async () => {
    renderWithTheme(<EditDatabaseDialog conn={stored} onClose={() => {}} onSaved={() => {}} />);
    const dialog = await screen.findByRole('dialog');
    await userEvent.click(within(dialog).getByText('Paste a URL'));
    await userEvent.type(within(dialog).getByLabelText('Connection URL', { exact: false, selector: 'input' }), 'postgres://ada:s3cr%40t@pg.internal:6543/orders?sslmode=verify-full');
    const summary = within(dialog).getByTestId('url-summary');
    expect(summary).toHaveTextContent('Host pg.internal:6543 · database orders · user ada · password ••••••');
    expect(dialog.textContent).not.toContain('s3cr');
    await userEvent.click(within(dialog).getByText('Fields'));
    expect(within(dialog).getByLabelText('Host')).toHaveValue('pg.internal');
    expect(within(dialog).getByLabelText('Database')).toHaveValue('orders');
  });

  it('a stored credentials command shows as set, never its text; left empty it is kept, typed it replaces', async () => {
    const fromCommand: api.ConnectionView = { ...stored, host: '', port: 0, dbname: '', user: '', passwordSet: false, urlCommandSet: true };
    m(api.testConnectionChange).mockResolvedValue(readOnly);
    m(api.updateConnection).mockResolvedValue({ name: 'Shop', changed: ['url_command'], report: readOnly.report, server });
    renderWithTheme(<EditDatabaseDialog conn={fromCommand} onClose={() => {}} onSaved={() => {}} />);
    const dialog = await screen.findByRole('dialog');
    expect(within(dialog).getByTestId('url-command-set')).toHaveTextContent('A command is set ✓');
    const cmd = within(dialog).getByLabelText('Command that prints the connection', { exact: false, selector: 'input' });
    expect(cmd).toHaveValue('');
    expect(cmd).toHaveAttribute('type', 'password');
    await userEvent.click(within(dialog).getByRole('button', { name: 'Test and check privileges' }));
    await within(dialog).findByTestId('server-info');
    expect(m(api.testConnectionChange).mock.calls[0][1]).toMatchObject({ urlCommand: '', useUrlCommand: true, host: '', url: '' });
    await userEvent.click(within(dialog).getByRole('button', { name: 'Back' }));
    await userEvent.type(
      within(dialog).getByLabelText('Command that prints the connection', { exact: false, selector: 'input' }),
      'heroku pg:credentials:url DATABASE -a shop',
    );
    await userEvent.click(within(dialog).getByRole('button', { name: 'Test and check privileges' }));
    await waitFor(() => expect(m(api.testConnectionChange).mock.calls.length).toBe(2));
    expect(m(api.testConnectionChange).mock.calls[1][1]).toMatchObject({ urlCommand: 'heroku pg:credentials:url DATABASE -a shop', useUrlCommand: true });
  });

  it('the password can come from a command; the password field then goes', async () => {
    m(api.testConnectionChange).mockResolvedValue(readOnly);
    renderWithTheme(<EditDatabaseDialog conn={stored} onClose={() => {}} onSaved={() => {}} />);
    const dialog = await screen.findByRole('dialog');
    await userEvent.click(within(dialog).getByLabelText('Read the secret from a command', { exact: false }));
    expect(within(dialog).queryByLabelText('Password', { exact: true, selector: 'input' })).toBeNull();
    await userEvent.type(within(dialog).getByLabelText('Command that prints the password', { exact: false, selector: 'input' }), 'op read op://Prod/shop/password');
    await userEvent.click(within(dialog).getByRole('button', { name: 'Test and check privileges' }));
    await waitFor(() => expect(m(api.testConnectionChange)).toHaveBeenCalled());
    expect(m(api.testConnectionChange).mock.calls[0][1]).toMatchObject({
      host: 'db.example.com', usePasswordCommand: true, passwordCommand: 'op read op://Prod/shop/password', useUrlCommand: false, password: '',
    });
  });

  it('a role that can write needs the deliberate switch before Save', async () => {
    m(api.testConnectionChange).mockResolvedValue(writes);
    m(api.updateConnection).mockResolvedValue({ name: 'Shop', changed: ['user'], report: writes.report, server });
    renderWithTheme(<EditDatabaseDialog conn={stored} onClose={() => {}} onSaved={() => {}} />);
    const dialog = await screen.findByRole('dialog');
    await userEvent.click(within(dialog).getByRole('button', { name: 'Test and check privileges' }));
    const save = await within(dialog).findByRole('button', { name: 'Save connection' });
    expect(save).toBeDisabled();
    expect(within(dialog).getByText('Recommended: a read-only role for PgSafe')).toBeInTheDocument();
    await userEvent.click(within(dialog).getByLabelText(/Keep this write-capable role anyway/));
    await userEvent.click(save);
    await waitFor(() => expect(m(api.updateConnection)).toHaveBeenCalledWith('Shop', expect.anything(), true));
  });
});

describe('remove and rename', () => {
  it('remove asks for the typed name and says the backups stay', async () => {
    m(api.removeDatabase).mockResolvedValue(undefined);
    const onRemoved = vi.fn();
    renderWithTheme(<RemoveDatabaseDialog name="Shop" onClose={() => {}} onRemoved={onRemoved} />);
    const dialog = await screen.findByRole('dialog');
    expect(dialog).toHaveTextContent('Its backups stay in your storages');
    expect(dialog).toHaveTextContent('Restore from a file…');
    const remove = within(dialog).getByRole('button', { name: 'Remove Shop' });
    expect(remove).toBeDisabled();
    await userEvent.type(within(dialog).getByLabelText('Type the database’s name to confirm'), 'shop');
    expect(remove).toBeDisabled();
    await userEvent.clear(within(dialog).getByLabelText('Type the database’s name to confirm'));
    await userEvent.type(within(dialog).getByLabelText('Type the database’s name to confirm'), 'Shop');
    await userEvent.click(remove);
    await waitFor(() => expect(onRemoved).toHaveBeenCalled());
    expect(m(api.removeDatabase)).toHaveBeenCalledWith('Shop');
  });

  it('rename sends the new name and reports it', async () => {
    m(api.renameDatabase).mockResolvedValue({ name: 'Shop main', changed: ['name'] });
    const onRenamed = vi.fn();
    renderWithTheme(<RenameDatabaseDialog name="Shop" onClose={() => {}} onRenamed={onRenamed} />);
    const dialog = await screen.findByRole('dialog');
    const input = within(dialog).getByLabelText('New name');
    await userEvent.clear(input);
    await userEvent.type(input, 'Shop main{Enter}');
    await waitFor(() => expect(onRenamed).toHaveBeenCalledWith('Shop main'));
    expect(m(api.renameDatabase)).toHaveBeenCalledWith('Shop', 'Shop main');
  });
});

describe('the connection panel and the write-access warning', () => {
  it('re-check shows the findings and the verdict badge follows', async () => {
    renderWithTheme(
      <>
        <RoleWarning db="Shop" />
        <ManageDatabasePanel db="Shop" onRemoved={() => {}} />
      </>,
    );
    const panel = await screen.findByTestId('manage-database');
    await waitFor(() => expect(within(panel).getByTestId('role-verdict')).toHaveAttribute('data-verdict', 'read_only'));
    expect(within(panel).getByTestId('connection-line')).toHaveTextContent('reader@db.example.com:5432/shop');
    expect(within(panel).getByTestId('connection-line')).toHaveTextContent('password stored (never shown)');
    expect(screen.queryByTestId('write-access-warning')).toBeNull();

    m(api.recheckDatabase).mockResolvedValue(writes);
    m(api.getConnection).mockResolvedValue({ ...stored, verdict: 'write_access', writeAccess: 'found' });
    await userEvent.click(within(panel).getByRole('button', { name: 'Re-check privileges' }));
    const result = await within(panel).findByTestId('recheck-result');
    expect(within(result).getAllByTestId('finding')).toHaveLength(1);
    await waitFor(() => expect(within(panel).getByTestId('role-verdict')).toHaveAttribute('data-verdict', 'write_access'));
    const warning = await screen.findByTestId('write-access-warning');
    expect(warning).toHaveAttribute('data-write-access', 'found');
    expect(within(warning).getByRole('button', { name: 'Switch to a read-only role' })).toBeInTheDocument();
  });

  it('a role accepted with write access shows a visible warning with the way out', async () => {
    m(api.getConnection).mockResolvedValue({ ...stored, verdict: 'write_access', writeAccess: 'accepted' });
    m(api.switchToReadOnlyRole).mockResolvedValue({ role: 'pgsafe_backup', report: readOnly.report, edit: { name: 'Shop', changed: ['user', 'password'] } });
    renderWithTheme(<RoleWarning db="Shop" />);
    const warning = await screen.findByTestId('write-access-warning');
    expect(warning).toHaveTextContent('Its role can change data');
    await userEvent.click(within(warning).getByRole('button', { name: 'Switch to a read-only role' }));
    const dialog = await screen.findByRole('dialog');
    await userEvent.type(within(dialog).getByLabelText('Administrator URL', { exact: false, selector: 'input' }), 'postgres://admin:pw@db.example.com/shop');
    m(api.getConnection).mockResolvedValue({ ...stored, verdict: 'read_only', user: 'pgsafe_backup' });
    await userEvent.click(within(dialog).getByRole('button', { name: 'Create role and use it' }));
    expect(await within(dialog).findByTestId('switched')).toHaveTextContent('Role pgsafe_backup created: Shop now connects as it');
    expect(m(api.switchToReadOnlyRole)).toHaveBeenCalledWith('Shop', expect.objectContaining({ adminUrl: 'postgres://admin:pw@db.example.com/shop', role: 'pgsafe_backup' }));
    await waitFor(() => expect(screen.queryByTestId('write-access-warning')).toBeNull());
  });

  it('the row-count switch saves at once', async () => {
    renderWithTheme(<ManageDatabasePanel db="Shop" onRemoved={() => {}} />);
    const toggle = await screen.findByRole('switch', { name: /Count rows in each backup/ });
    expect(toggle).toBeChecked();
    expect(screen.getByText(/read from the dump itself as it streams/)).toBeInTheDocument();
    m(api.getConnection).mockResolvedValue({ ...stored, countRows: false });
    await userEvent.click(toggle);
    expect(m(api.setCountRows)).toHaveBeenCalledWith('Shop', false);
    await waitFor(() => expect(screen.getByRole('switch', { name: /Count rows in each backup/ })).not.toBeChecked());
  });
});
