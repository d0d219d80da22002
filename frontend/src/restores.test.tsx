import { act, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import * as api from './api';
import { ImportDialog } from './components/ImportDialog';
import { DrillServerPanel } from './components/DrillServerPanel';
import { defaultRestoreName, describeUrl, newDatabaseNameProblem } from './components/RestoreDialog';
import { itemWords, RestoreEnd } from './components/RestoreOutcome';
import { DatabasePage } from './pages/DatabasePage';
import { renderWithTheme } from './test/render';

vi.mock('./api', async (importOriginal) => {
  const real = await importOriginal<typeof import('./api')>();
  return {
    ...real,
    listBackups: vi.fn(),
    listStorages: vi.fn(),
    runningBackups: vi.fn(),
    onBackupEvents: vi.fn(),
    lastCheck: vi.fn(),
    drillServer: vi.fn(),
    setDrillServer: vi.fn(),
    drillPolicy: vi.fn(),
    setDrillPolicy: vi.fn(),
    verifyBackup: vi.fn(),
    drillBackup: vi.fn(),
    startRestore: vi.fn(),
    cancelRestore: vi.fn(),
    onRestoreEvents: vi.fn(),
    healthPolicy: vi.fn(),
    healthHistory: vi.fn(),
    importBackupFile: vi.fn(),
    chooseBackupFile: vi.fn(),
  };
});

const m = vi.mocked;
const db: api.DatabaseView = { id: 1, name: 'shop', host: 'db.example', port: 5432, dbname: 'shop', user: 'reader', passwordSet: true, sslmode: 'require', ssh: false, countRows: true, storageIds: [7] };
let emitProgress: (p: api.RestoreProgress) => void = () => {};
let emitFinished: (f: api.RestoreFinished) => void = () => {};
const threeDaysAgo = new Date(Date.now() - 3 * 86400_000 - 60_000).toISOString();

beforeEach(() => {
  m(api.listBackups).mockResolvedValue([
    { id: 'b2', status: 'succeeded', origin: 'manual', started: '2026-11-23T10:00:00Z', durationSeconds: 95, rawSize: 9e6, storedSize: 2_400_000, copies: [{ storage: 'nas', status: 'written' }],
      checked: { kind: 'drill', ok: true, when: threeDaysAgo } },
    { id: 'b1', status: 'succeeded', origin: 'scheduled', started: '2026-11-22T10:00:00Z', durationSeconds: 90, rawSize: 9e6, storedSize: 2_300_000, copies: [{ storage: 'nas', status: 'written' }],
      checked: { kind: 'verify', ok: false, when: threeDaysAgo, problem: 'chunk 3 at offset 3145728 failed authentication' } },
  ]);
  m(api.listStorages).mockResolvedValue([{ id: 7, name: 'nas', kind: 'local', where: '/mnt/nas', secretSet: false }]);
  m(api.runningBackups).mockResolvedValue([]);
  m(api.onBackupEvents).mockReturnValue(() => {});
  m(api.lastCheck).mockResolvedValue({ kind: 'drill', when: threeDaysAgo, ok: true, backupId: 'b2' });
  m(api.drillServer).mockResolvedValue({ set: false });
  m(api.drillPolicy).mockResolvedValue({ everyBackups: 0, everyDays: 7 });
  m(api.setDrillPolicy).mockResolvedValue();
  m(api.startRestore).mockResolvedValue();
  m(api.cancelRestore).mockResolvedValue();
  m(api.healthPolicy).mockResolvedValue({ intervalSeconds: 0, failuresBeforeDown: 3 });
  m(api.healthHistory).mockResolvedValue([]);
  m(api.onRestoreEvents).mockImplementation((p, f) => {
    emitProgress = p;
    emitFinished = f;
    return () => {};
  });
});

async function openRowMenu(user: ReturnType<typeof userEvent.setup>, row: number) {
  const rows = await screen.findAllByTestId('backup-row');
  await user.click(within(rows[row]).getByRole('button', { name: /Actions for the backup/ }));
}

describe('verification', () => {
  it('shows when the database was last verified and each backup’s check', async () => {
    renderWithTheme(<DatabasePage db={db} onBack={() => {}} />);
    expect(await screen.findByTestId('last-check')).toHaveTextContent('last verified: 3 days ago ✓');
    const badges = await screen.findAllByTestId('verified-badge');
    expect(badges[0]).toHaveTextContent('✓ drill');
    expect(badges[1]).toHaveTextContent('✗ verified');
    expect(await screen.findByTestId('drill-local')).toHaveTextContent('Or set a drill server in Settings');
  });

  it('says what to install when neither a drill server nor server programs are there', async () => {
    m(api.drillServer).mockResolvedValue({ set: false, localProblem: 'No PostgreSQL server programs (initdb and postgres) were found on this computer. Install the PostgreSQL 15 server (or newer): the package postgresql-15 on Debian or Ubuntu.' });
    renderWithTheme(<DatabasePage db={db} onBack={() => {}} />);
    const note = await screen.findByTestId('drill-local');
    expect(note).toHaveTextContent('the package postgresql-15');
    expect(note).not.toHaveTextContent('--');
  });

  it('runs a drill in a throwaway local server with no drill server set and shows the restore time', async () => {
    const user = userEvent.setup();
    m(api.drillServer).mockResolvedValue({ set: false, local: 'PostgreSQL 17.10 (/usr/lib/postgresql/17/bin)' });
    m(api.drillBackup).mockResolvedValue({
      kind: 'drill', ok: true, tables: 12, rowsCompared: 12, restoreSeconds: 4.2, server: 'local throwaway PostgreSQL 15', when: '', durationSeconds: 6,
      summary: 'Restore drill passed: 12 tables, row counts match, restored in 4.2 s (local throwaway PostgreSQL 15)',
    });
    renderWithTheme(<DatabasePage db={db} onBack={() => {}} />);
    expect(await screen.findByTestId('drill-local')).toHaveTextContent('drills run in a throwaway PostgreSQL 17.10 that PgSafe starts on this computer');
    await openRowMenu(user, 0);
    await user.click(await screen.findByRole('menuitem', { name: 'Restore drill' }));
    const result = await screen.findByTestId('check-result');
    expect(result).toHaveTextContent('Restore drill passed ✓');
    expect(result).toHaveTextContent('12 tables, row counts match, restored in 4.2 s (local throwaway PostgreSQL 15)');
    expect(result).toHaveTextContent('The throwaway server was stopped and removed.');
  });

  it('verifies a backup and reports the first problem in words', async () => {
    const user = userEvent.setup();
    m(api.verifyBackup).mockResolvedValue({ kind: 'verify', ok: false, problem: 'the stored file has 100 bytes, the manifest says 2400000', tables: 0, when: '', durationSeconds: 1 });
    renderWithTheme(<DatabasePage db={db} onBack={() => {}} />);
    await openRowMenu(user, 0);
    await user.click(await screen.findByRole('menuitem', { name: 'Verify' }));
    expect(api.verifyBackup).toHaveBeenCalledWith('b2');
    const result = await screen.findByTestId('check-result');
    expect(result).toHaveTextContent('Verification found a problem');
    expect(result).toHaveTextContent('the manifest says 2400000');
  });

  it('runs a drill and lists the tables whose counts differ', async () => {
    const user = userEvent.setup();
    m(api.drillBackup).mockResolvedValue({ kind: 'drill', ok: false, problem: 'restored tables differ from the backup’s snapshot', rowDiffs: ['public.orders: 9 rows, 10 expected'], tables: 3, when: '', durationSeconds: 4 });
    renderWithTheme(<DatabasePage db={db} onBack={() => {}} />);
    await openRowMenu(user, 0);
    await user.click(await screen.findByRole('menuitem', { name: 'Restore drill' }));
    expect(await screen.findByTestId('check-result')).toHaveTextContent('public.orders: 9 rows, 10 expected');
  });

  it('saves the automatic drill rules', async () => {
    const user = userEvent.setup();
    renderWithTheme(<DatabasePage db={db} onBack={() => {}} />);
    const every = await screen.findByLabelText('After every Nth backup');
    await user.clear(every);
    await user.type(every, '5');
    await user.click(screen.getByRole('button', { name: 'Save drills' }));
    await waitFor(() => expect(api.setDrillPolicy).toHaveBeenCalledWith('shop', { everyBackups: 5, everyDays: 7 }));
  });
});

describe('drill server setting', () => {
  it('says no drill server is needed when server programs are found', async () => {
    m(api.drillServer).mockResolvedValue({ set: false, local: 'PostgreSQL 17.10 (/usr/lib/postgresql/17/bin)' });
    renderWithTheme(<DrillServerPanel />);
    await waitFor(() => expect(screen.getByTestId('drill-server')).toHaveTextContent('No drill server is needed: drills run in a throwaway PostgreSQL 17.10 (/usr/lib/postgresql/17/bin)'));
  });

  it('says what to install when none are found', async () => {
    m(api.drillServer).mockResolvedValue({ set: false, localProblem: 'No PostgreSQL server programs (initdb and postgres) were found on this computer. Install the PostgreSQL 17 server (or newer): the package postgresql-17 on Debian or Ubuntu.' });
    renderWithTheme(<DrillServerPanel />);
    await waitFor(() => expect(screen.getByTestId('drill-server')).toHaveTextContent('No drill server yet.'));
    expect(screen.getByTestId('drill-server')).toHaveTextContent('the package postgresql-17');
  });
});

describe('restore dialog', () => {
  it('restores into a new database on the same server with credentials used once, with progress, the row comparison and a connection string', async () => {
    const user = userEvent.setup();
    renderWithTheme(<DatabasePage db={db} onBack={() => {}} />);
    await openRowMenu(user, 1);
    await user.click(await screen.findByRole('menuitem', { name: 'Restore…' }));
    const name = screen.getByLabelText('New database (must not exist yet)');
    expect((name as HTMLInputElement).value).toMatch(/^shop_restored_\d{8}_\d{4}$/);
    await user.clear(name);
    await user.type(name, 'shop_restored');
    await user.type(screen.getByLabelText('User with write access'), 'admin');
    await user.type(screen.getByLabelText(/^Password/), 's3cret-pw');
    await user.click(screen.getByRole('button', { name: 'Continue' }));
    expect(screen.getByTestId('restore-confirm')).toHaveTextContent('create the database shop_restored on db.example:5432');
    await user.click(screen.getByRole('button', { name: 'Restore' }));
    expect(api.startRestore).toHaveBeenCalledWith(expect.objectContaining({ backupId: 'b1', target: 'same', user: 'admin', password: 's3cret-pw', database: 'shop_restored', jobs: 1, noOwner: false, createRoles: false }));
    act(() => emitProgress({ backupId: 'b1', phase: 'restoring', readBytes: 1_200_000, total: 2_300_000, item: 'processing data for table "public.orders"' }));
    const running = screen.getByTestId('restore-progress');
    expect(running).toHaveTextContent('Restoring…');
    expect(running).toHaveTextContent('1.2 MB of 2.3 MB read');
    expect(running).toHaveTextContent('Loading the rows of public.orders');
    expect(screen.getByRole('progressbar', { name: 'Backup read' })).toHaveAttribute('aria-valuenow', '52');
    act(() =>
      emitFinished({ backupId: 'b1', ok: true, cancelled: false, database: 'shop_restored', ignoredErrors: 0, viaTempFile: false, durationSeconds: 12,
        rows: { recorded: true, tables: 23 }, connection: 'postgres://admin@db.example:5432/shop_restored' }),
    );
    const done = screen.getByTestId('restore-finished');
    expect(done).toHaveTextContent('Restored into shop_restored in 12 s');
    expect(done).toHaveTextContent('All 23 tables have the rows recorded at backup time ✓');
    expect(screen.getByTestId('restore-connection')).toHaveValue('postgres://admin@db.example:5432/shop_restored');
    expect(within(done).getByRole('button', { name: 'Copy the connection string' })).toBeInTheDocument();
    expect(done).not.toHaveTextContent('s3cret-pw');
    expect(screen.queryByTestId('restore-notes')).toBeNull();
  });

  it('names the roles the target lacks and restores again the way chosen, in words', async () => {
    const user = userEvent.setup();
    renderWithTheme(<DatabasePage db={db} onBack={() => {}} />);
    await user.click(await screen.findByRole('button', { name: 'Restore latest' }));
    await user.type(screen.getByLabelText('User with write access'), 'admin');
    await user.click(screen.getByRole('button', { name: 'Continue' }));
    await user.click(screen.getByRole('button', { name: 'Restore' }));
    const roles = { missing: ['app_owner', 'readers', 'reporting'], creatable: ['app_owner', 'readers', 'reporting'] };
    act(() => emitFinished({ backupId: 'b2', ok: false, cancelled: false, ignoredErrors: 0, viaTempFile: false, durationSeconds: 1, problem: 'x', error: 'x', roles }));
    expect(screen.getByTestId('restore-roles-headline')).toHaveTextContent(
      '3 roles the backup needs are missing on the target: app_owner, readers, reporting. Nothing was written. Choose how to go on:',
    );
    expect(screen.getByRole('radio', { name: /Create them \(without passwords, unable to log in\)/ })).toBeChecked();
    await user.click(screen.getByRole('button', { name: 'Restore again this way' }));
    expect(api.startRestore).toHaveBeenLastCalledWith(expect.objectContaining({ createRoles: true, noOwner: false, noPrivileges: false }));

    // Mapping asks for a role per missing one; dropping owners asks nothing.
    act(() => emitFinished({ backupId: 'b2', ok: false, cancelled: false, ignoredErrors: 0, viaTempFile: false, durationSeconds: 1, problem: 'x', error: 'x', roles }));
    await user.click(screen.getByRole('radio', { name: /Give their objects to another role/ }));
    expect(screen.getByRole('button', { name: 'Restore again this way' })).toBeDisabled();
    for (const r of roles.missing) await user.type(screen.getByLabelText(`Give the objects and grants of ${r} to`), 'shop_admin');
    await user.click(screen.getByRole('button', { name: 'Restore again this way' }));
    expect(api.startRestore).toHaveBeenLastCalledWith(
      expect.objectContaining({ createRoles: false, roleMap: { app_owner: 'shop_admin', readers: 'shop_admin', reporting: 'shop_admin' } }),
    );
    act(() =>
      emitFinished({ backupId: 'b2', ok: false, cancelled: false, ignoredErrors: 0, viaTempFile: false, durationSeconds: 1, problem: 'x', error: 'x',
        roles: { cannotOwn: ['app_owner'], restoringRole: 'restorer' } }),
    );
    expect(screen.getByTestId('restore-roles-headline')).toHaveTextContent('The restoring user restorer is not a superuser nor a member of app_owner');
    expect(screen.queryByRole('radio', { name: /Create them/ })).toBeNull();
    await user.click(screen.getByRole('radio', { name: /Restore without owners and privileges/ }));
    await user.click(screen.getByRole('button', { name: 'Restore again this way' }));
    expect(api.startRestore).toHaveBeenLastCalledWith(expect.objectContaining({ noOwner: true, noPrivileges: true, createRoles: false }));
  });

  it('names the tablespaces the target lacks and restores again without tablespaces', async () => {
    const user = userEvent.setup();
    renderWithTheme(<DatabasePage db={db} onBack={() => {}} />);
    await user.click(await screen.findByRole('button', { name: 'Restore latest' }));
    await user.type(screen.getByLabelText('User with write access'), 'admin');
    await user.click(screen.getByRole('button', { name: 'Continue' }));
    await user.click(screen.getByRole('button', { name: 'Restore' }));
    act(() =>
      emitFinished({ backupId: 'b2', ok: false, cancelled: false, ignoredErrors: 0, viaTempFile: false, durationSeconds: 1, problem: 'x', error: 'x',
        roles: { missingTablespaces: ['fast_ssd'] } }),
    );
    expect(screen.getByText('The target server lacks tablespaces this backup uses')).toBeInTheDocument();
    expect(screen.getByTestId('restore-roles-headline')).toHaveTextContent('The backup puts tables or indexes in a tablespace the target lacks: fast_ssd. Nothing was written.');
    expect(screen.queryByRole('radio')).toBeNull(); // no roles to choose about
    const box = screen.getByRole('checkbox', { name: "Put everything in the target's default tablespace" });
    expect(box).toBeChecked();
    await user.click(box);
    expect(screen.getByRole('button', { name: 'Restore again this way' })).toBeDisabled();
    await user.click(box);
    await user.click(screen.getByRole('button', { name: 'Restore again this way' }));
    expect(api.startRestore).toHaveBeenLastCalledWith(expect.objectContaining({ noTablespaces: true, noOwner: false, noPrivileges: false, createRoles: false }));
  });

  it('refuses a new database name that needs quoting, in a sentence', async () => {
    const user = userEvent.setup();
    renderWithTheme(<DatabasePage db={db} onBack={() => {}} />);
    await user.click(await screen.findByRole('button', { name: 'Restore latest' }));
    await user.type(screen.getByLabelText('User with write access'), 'admin');
    const name = screen.getByLabelText('New database (must not exist yet)');
    await user.clear(name);
    await user.type(name, 'Shop Copy');
    expect(await screen.findByText(/“Shop Copy” would need quoting in SQL: use lowercase letters, digits and _ only/)).toBeInTheDocument();
    expect(screen.getByRole('button', { name: 'Continue' })).toBeDisabled();
    await user.clear(name);
    await user.type(name, 'shop_copy');
    expect(screen.getByRole('button', { name: 'Continue' })).toBeEnabled();
  });

  it('shows a parallel restore as read once the backup is decrypted', async () => {
    const user = userEvent.setup();
    renderWithTheme(<DatabasePage db={db} onBack={() => {}} />);
    await user.click(await screen.findByRole('button', { name: 'Restore latest' }));
    await user.type(screen.getByLabelText('User with write access'), 'admin');
    const jobs = screen.getByLabelText('Parallel jobs');
    await user.clear(jobs);
    await user.type(jobs, '4');
    await user.click(screen.getByRole('button', { name: 'Continue' }));
    await user.click(screen.getByRole('button', { name: 'Restore' }));
    act(() => emitProgress({ backupId: 'b2', phase: 'decrypting', readBytes: 600_000, total: 2_400_000 }));
    expect(screen.getByTestId('restore-progress')).toHaveTextContent('Decrypting to a private temporary folder…600 kB of 2.4 MB read');
    act(() => emitProgress({ backupId: 'b2', phase: 'restoring', readBytes: 2_400_000, total: 2_400_000, item: 'launching item 3447 TABLE DATA public orders' }));
    expect(screen.getByTestId('restore-progress')).toHaveTextContent('All 2.4 MB of the backup read and checked');
    expect(screen.getByTestId('restore-item')).toHaveTextContent('Loading the rows of public.orders');
  });

  it('replacing a database names it and needs its name typed', async () => {
    const user = userEvent.setup();
    renderWithTheme(<DatabasePage db={db} onBack={() => {}} />);
    await user.click(await screen.findByRole('button', { name: 'Restore latest' }));
    await user.click(screen.getByText('Replace a database'));
    await user.type(screen.getByLabelText('User with write access'), 'admin');
    const name = screen.getByLabelText('Database to replace (must exist)');
    await user.clear(name);
    await user.type(name, 'shop');
    await user.click(screen.getByRole('button', { name: 'Continue' }));
    expect(screen.getByTestId('restore-confirm')).toHaveTextContent('Whatever was written to them since then is lost');
    const go = screen.getByRole('button', { name: 'Replace shop' });
    expect(go).toBeDisabled();
    await user.type(screen.getByLabelText('Type shop to confirm'), 'shop');
    await user.click(go);
    expect(api.startRestore).toHaveBeenCalledWith(expect.objectContaining({ backupId: 'b2', target: 'replace', database: 'shop', confirm: 'shop' }));
    await user.click(screen.getByRole('button', { name: 'Cancel restore' }));
    expect(api.cancelRestore).toHaveBeenCalled();
    act(() => emitFinished({ backupId: 'b2', ok: false, cancelled: true, problem: 'The restore was cancelled.', error: 'context canceled', ignoredErrors: 0, viaTempFile: false, durationSeconds: 2 }));
    expect(screen.getByTestId('restore-finished')).toHaveTextContent('Restore cancelled');
  });

  it('names a new database so it needs no quoting', () => {
    expect(defaultRestoreName('Shop', new Date(2026, 11, 6, 14, 2))).toBe('shop_restored_20261206_1402');
    expect(defaultRestoreName('Café Größe-2', new Date(2026, 0, 2, 3, 4))).toBe('cafe_gro_e_2_restored_20260102_0304');
    expect(defaultRestoreName('2024 sales', new Date(2026, 0, 2, 3, 4))).toBe('db_2024_sales_restored_20260102_0304');
    expect(defaultRestoreName('x'.repeat(80)).length).toBe(63);
    for (const label of ['Shop', 'Café Größe-2', '2024 sales', 'x'.repeat(80), '***']) expect(newDatabaseNameProblem(defaultRestoreName(label))).toBeNull();
    expect(newDatabaseNameProblem('shop-copy')).toMatch(/would need quoting/);
    expect(newDatabaseNameProblem('a'.repeat(64))).toMatch(/PostgreSQL keeps 63 at most/);
  });

  it('says pg_restore’s items in words', () => {
    expect(itemWords('creating TABLE "public.orders"')).toBe('Creating table public.orders');
    expect(itemWords('creating FK CONSTRAINT "public.orders orders_customer_fkey"')).toBe('Creating fk constraint public.orders orders_customer_fkey');
    expect(itemWords('launching item 3450 INDEX public orders_total_idx')).toBe('Creating index orders_total_idx');
  });

  it('describes a target URL without its password', () => {
    expect(describeUrl('postgres://u:hunter2@db.internal:6543/newdb')).toBe('newdb on db.internal:6543');
  });
});

describe('the end of a restore', () => {
  const base: api.RestoreFinished = { backupId: 'b1', ok: true, cancelled: false, database: 'shop_restored', ignoredErrors: 0, viaTempFile: false, durationSeconds: 3 };

  it('says pg_restore’s errors in sentences, the raw lines one click away', async () => {
    const user = userEvent.setup();
    const lines = ['pg_restore: from TOC entry 2; 3079 16385 EXTENSION pg_trgm (no owner)', 'pg_restore: error: could not execute query: ERROR:  extension "pg_trgm" is not available'];
    renderWithTheme(
      <RestoreEnd
        finished={{ ...base, ignoredErrors: 1, warnings: lines, rows: { recorded: true, tables: 2 },
          notes: [
            { code: 'owners_not_kept', severity: 'info', message: 'Owners were not kept: the restoring role is not a superuser, so every restored object belongs to it.' },
            { code: 'extension_missing', severity: 'warning', message: '1 extension could not be created: pg_trgm (not installed on the target server).', lines },
          ] }}
      />,
    );
    const notes = screen.getByTestId('restore-notes');
    expect(notes).toHaveTextContent('pg_restore went past one error:');
    expect(notes).toHaveTextContent('Owners were not kept: the restoring role is not a superuser');
    expect(notes).toHaveTextContent('1 extension could not be created: pg_trgm (not installed on the target server).');
    expect(notes).not.toHaveTextContent('from TOC entry');
    await user.click(within(notes).getByRole('button', { name: 'Show pg_restore’s messages (2 lines)' }));
    expect(notes).toHaveTextContent('pg_restore: from TOC entry 2; 3079 16385 EXTENSION pg_trgm (no owner)');
  });

  it('lists the tables whose rows differ from the backup’s counts', () => {
    renderWithTheme(<RestoreEnd finished={{ ...base, rows: { recorded: true, tables: 23, diffs: [{ table: 'public.orders', want: 700, got: 699 }, { table: 'public.gone', want: 5, got: -1 }] } }} />);
    expect(screen.getByTestId('restore-rows')).toHaveTextContent('2 of 23 tables differ from the rows recorded at backup time:');
    const rows = within(screen.getByTestId('row-diffs')).getAllByRole('row');
    expect(rows[1]).toHaveTextContent('public.orders700699');
    expect(rows[2]).toHaveTextContent('public.gone5missing');
  });

  it('says when the backup has no recorded counts', () => {
    renderWithTheme(<RestoreEnd finished={{ ...base, rows: { recorded: false, tables: 0, uncounted: 4 } }} />);
    expect(screen.getByTestId('restore-rows')).toHaveTextContent('The backup recorded no row counts (row counting was off for this database), so the restored rows could not be compared.');
  });

  it('a failure in words, the technical error one click away', async () => {
    const user = userEvent.setup();
    renderWithTheme(
      <RestoreEnd finished={{ ...base, ok: false, problem: 'The target server refused the password of the user given for the restore.', error: 'connect to the target server admin@db:5432/postgres: FATAL: password authentication failed (SQLSTATE 28P01)' }} />,
    );
    const alert = screen.getByRole('alert');
    expect(alert).toHaveTextContent('The restore failed');
    expect(alert).toHaveTextContent('The target server refused the password');
    expect(alert).not.toHaveTextContent('SQLSTATE');
    await user.click(within(alert).getByRole('button', { name: 'Show details' }));
    expect(alert).toHaveTextContent('SQLSTATE 28P01');
  });
});

describe('restore from a file', () => {
  it('reads the file, says what it holds and offers the restore', async () => {
    const user = userEvent.setup();
    const onRestore = vi.fn();
    m(api.chooseBackupFile).mockResolvedValue('/media/usb/shop.pgsafe');
    m(api.importBackupFile).mockResolvedValue({ id: 'b9', status: 'succeeded', origin: 'import', started: '2026-11-20T08:00:00Z', durationSeconds: 0, rawSize: 0, storedSize: 5_000_000,
      copies: [], database: 'shop', serverVersion: '15.18', rowsCounted: false, file: '/media/usb/shop.pgsafe' });
    renderWithTheme(<ImportDialog opened onClose={() => {}} onRestore={onRestore} />);
    await user.click(screen.getByRole('button', { name: 'Browse…' }));
    expect(screen.getByLabelText('Backup file')).toHaveValue('/media/usb/shop.pgsafe');
    await user.click(screen.getByRole('button', { name: 'Read file' }));
    expect(api.importBackupFile).toHaveBeenCalledWith('/media/usb/shop.pgsafe');
    const found = await screen.findByTestId('imported-backup');
    expect(found).toHaveTextContent('PostgreSQL 15.18 · 5.0 MB');
    expect(found).toHaveTextContent('row counts unknown');
    await user.click(within(found).getByRole('button', { name: 'Restore…' }));
    expect(onRestore).toHaveBeenCalledWith(expect.objectContaining({ id: 'b9' }));
  });

  it('says why a file cannot be read', async () => {
    const user = userEvent.setup();
    m(api.importBackupFile).mockRejectedValue(new api.ApiError('Couldn’t import the backup file', 'This backup needs key 3f9a…, this machine has key 71c2….', 'wrong key'));
    renderWithTheme(<ImportDialog opened onClose={() => {}} onRestore={() => {}} />);
    await user.type(screen.getByLabelText('Backup file'), '/tmp/x.pgsafe');
    await user.click(screen.getByRole('button', { name: 'Read file' }));
    expect(await screen.findByText(/needs key 3f9a/)).toBeInTheDocument();
  });
});
