import { act, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import * as api from './api';
import { ImportDialog } from './components/ImportDialog';
import { describeUrl } from './components/RestoreDialog';
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
    expect(await screen.findByText(/No drill server yet/)).toBeInTheDocument();
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

describe('restore dialog', () => {
  it('restores into a new database on the same server with credentials used once, with progress and warnings', async () => {
    const user = userEvent.setup();
    renderWithTheme(<DatabasePage db={db} onBack={() => {}} />);
    await openRowMenu(user, 1);
    await user.click(await screen.findByRole('menuitem', { name: 'Restore…' }));
    expect(screen.getByLabelText('New database (must not exist yet)')).toHaveValue('shop_restored');
    await user.type(screen.getByLabelText('User with write access'), 'admin');
    await user.type(screen.getByLabelText(/^Password/), 's3cret-pw');
    await user.click(screen.getByRole('button', { name: 'Continue' }));
    expect(screen.getByTestId('restore-confirm')).toHaveTextContent('create the database shop_restored on db.example:5432');
    await user.click(screen.getByRole('button', { name: 'Restore' }));
    expect(api.startRestore).toHaveBeenCalledWith(expect.objectContaining({ backupId: 'b1', target: 'same', user: 'admin', password: 's3cret-pw', database: 'shop_restored', jobs: 1, noOwner: true }));
    act(() => emitProgress({ backupId: 'b1', phase: 'restoring', readBytes: 1_200_000, total: 2_300_000 }));
    expect(screen.getByTestId('restore-progress')).toHaveTextContent('1.2 MB of 2.3 MB read');
    act(() => emitFinished({ backupId: 'b1', ok: true, cancelled: false, database: 'shop_restored', warnings: ['extension "plpgsql" already exists'], ignoredErrors: 1, viaTempFile: false, durationSeconds: 12 }));
    const done = screen.getByTestId('restore-finished');
    expect(done).toHaveTextContent('Restored into shop_restored in 12 s');
    expect(done).toHaveTextContent('extension "plpgsql" already exists');
    expect(done).not.toHaveTextContent('s3cret-pw');
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
    act(() => emitFinished({ backupId: 'b2', ok: false, cancelled: true, error: 'context canceled', ignoredErrors: 0, viaTempFile: false, durationSeconds: 2 }));
    expect(screen.getByTestId('restore-finished')).toHaveTextContent('Restore cancelled');
  });

  it('describes a target URL without its password', () => {
    expect(describeUrl('postgres://u:hunter2@db.internal:6543/newdb')).toBe('newdb on db.internal:6543');
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
