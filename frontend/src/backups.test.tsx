import { act, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import * as api from './api';
import { DatabasePage } from './pages/DatabasePage';
import { StoragesPage } from './pages/StoragesPage';
import { renderWithTheme } from './test/render';
import { resetJobsStore } from './stores/jobs';

vi.mock('./api', async (importOriginal) => {
  const real = await importOriginal<typeof import('./api')>();
  return {
    ...real,
    listBackups: vi.fn(),
    listStorages: vi.fn(),
    startBackup: vi.fn(),
    cancelBackup: vi.fn(),
    runningBackups: vi.fn(),
    onEngineEvent: vi.fn(),
    databaseStatus: vi.fn(),
    setDatabaseStorages: vi.fn(),
    addStorage: vi.fn(),
    testStorage: vi.fn(),
    removeStorage: vi.fn(),
    storageHostKey: vi.fn(),
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
  };
});

const m = vi.mocked;
const db: api.DatabaseView = { id: 1, name: 'shop', host: 'db.example', port: 5432, dbname: 'shop', user: 'reader', passwordSet: true, sslmode: 'require', ssh: false, countRows: true, storageIds: [7] };
let emit: (ev: api.EngineEvent) => void = () => {};
const at = () => new Date(Date.now() + 1000).toISOString();
const emitProgress = (p: api.BackupProgress) => emit({ type: 'job.progress', job: 'backup', jobId: p.backupId, database: p.database, origin: 'manual', at: at(), backup: p });

beforeEach(() => {
  m(api.listBackups).mockResolvedValue([
    { id: 'b2', status: 'succeeded', origin: 'manual', started: '2026-11-23T10:00:00Z', durationSeconds: 95, rawSize: 9e6, storedSize: 2_400_000,
      error: 'written to 1 of 2 storages; storage usb: the disk is full', copies: [{ storage: 'nas', status: 'written' }, { storage: 'usb', status: 'failed', error: 'the disk is full' }] },
    { id: 'b1', status: 'failed', origin: 'scheduled', started: '2026-11-22T10:00:00Z', durationSeconds: 3, rawSize: 0, storedSize: 0, error: 'pg_dump: the server refused the password', copies: [] },
  ]);
  m(api.listStorages).mockResolvedValue([{ id: 7, name: 'nas', kind: 'local', where: '/mnt/nas', secretSet: false }, { id: 8, name: 'usb', kind: 'local', where: '/media/usb', secretSet: false }]);
  m(api.runningBackups).mockResolvedValue([]);
  m(api.databaseStatus).mockResolvedValue([]);
  m(api.lastCheck).mockResolvedValue({ kind: '', when: '0001-01-01T00:00:00Z', ok: false, backupId: '' });
  m(api.drillServer).mockResolvedValue({ set: false });
  m(api.drillPolicy).mockResolvedValue({ everyBackups: 0, everyDays: 0 });
  m(api.healthPolicy).mockResolvedValue({ intervalSeconds: 0, failuresBeforeDown: 3 });
  m(api.healthHistory).mockResolvedValue([]);
  m(api.onRestoreEvents).mockReturnValue(() => {});
  m(api.startBackup).mockResolvedValue();
  m(api.cancelBackup).mockResolvedValue();
  resetJobsStore();
  m(api.onEngineEvent).mockImplementation((fn) => {
    emit = fn;
    return () => {};
  });
});

describe('database page', () => {
  it('lists backups with size, duration and each storage’s result', async () => {
    renderWithTheme(<DatabasePage db={db} onBack={() => {}} />);
    const rows = await screen.findAllByTestId('backup-row');
    expect(rows).toHaveLength(2);
    expect(within(rows[0]).getByText('2.4 MB')).toBeInTheDocument();
    expect(within(rows[0]).getByText('1 min 35 s')).toBeInTheDocument();
    expect(within(rows[0]).getByText(/succeeded \(partly\)/)).toBeInTheDocument();
    expect(within(rows[0]).getByText(/✗ usb/)).toBeInTheDocument();
    expect(within(rows[1]).getByText('failed')).toBeInTheDocument();
  });

  it('backs up now with live numbers, cancels, and shows the outcome', async () => {
    const user = userEvent.setup();
    renderWithTheme(<DatabasePage db={db} onBack={() => {}} />);
    await user.click(await screen.findByRole('button', { name: 'Back up now' }));
    expect(api.startBackup).toHaveBeenCalledWith('shop');
    expect(screen.getByRole('button', { name: 'Back up now' })).toBeDisabled();
    act(() =>
      emitProgress({ database: 'shop', backupId: 'b3', phase: 'dumping', table: 'public.orders', rawBytes: 50e6, estimatedBytes: 200e6, storedBytes: 12e6,
        bytesPerSecond: 25e6, elapsedSeconds: 2, etaSeconds: 6, storages: [{ id: '7', name: 'nas', bytes: 12e6 }, { id: '8', name: 'usb', bytes: 1e6, error: 'full' }] }),
    );
    expect(screen.getByText('Dumping public.orders')).toBeInTheDocument();
    expect(screen.getByTestId('backup-numbers')).toHaveTextContent('50.0 MB of about 200 MB · 25.0 MB/s · about 6 s left');
    expect(screen.getByText('usb: dropped out')).toBeInTheDocument();
    // Another database's events do not show here.
    act(() => emitProgress({ database: 'other', backupId: 'x', phase: 'counting', rawBytes: 0, estimatedBytes: 0, storedBytes: 0, bytesPerSecond: 0, elapsedSeconds: 0, etaSeconds: 0 }));
    expect(screen.getByText('Dumping public.orders')).toBeInTheDocument();
    await user.click(screen.getByRole('button', { name: 'Cancel' }));
    expect(api.cancelBackup).toHaveBeenCalledWith('shop');
    act(() => emit({ type: 'job.finished', job: 'backup', jobId: 'b3', database: 'shop', origin: 'manual', at: at(), outcome: 'cancelled', error: 'cancelled by the user' }));
    expect(screen.queryByTestId('backup-progress')).not.toBeInTheDocument();
    expect(screen.getByText('Backup cancelled: nothing was kept')).toBeInTheDocument();
    await waitFor(() => expect(api.listBackups).toHaveBeenCalledTimes(2));
  });

  it('shows a scheduled backup live, then returns to ready', async () => {
    renderWithTheme(<DatabasePage db={db} onBack={() => {}} />);
    const button = await screen.findByRole('button', { name: 'Back up now' });
    act(() => emit({ type: 'job.started', job: 'backup', jobId: 'b4', database: 'shop', origin: 'scheduled', at: at() }));
    expect(screen.getByTestId('backup-progress')).toBeInTheDocument();
    expect(button).toBeDisabled();
    act(() => emitProgress({ database: 'shop', backupId: 'b4', phase: 'dumping', table: 'public.customers', rawBytes: 1e6, estimatedBytes: 4e6, storedBytes: 3e5, bytesPerSecond: 1e6, elapsedSeconds: 1, etaSeconds: 3 }));
    expect(screen.getByText('Dumping public.customers')).toBeInTheDocument();
    act(() => emit({ type: 'job.finished', job: 'backup', jobId: 'b4', database: 'shop', origin: 'scheduled', at: at(), outcome: 'succeeded' }));
    expect(screen.queryByTestId('backup-progress')).not.toBeInTheDocument();
    expect(screen.getByTestId('backup-finished')).toHaveTextContent('Backed up ✓ (scheduled)');
    expect(button).toBeEnabled();
    await waitFor(() => expect(api.listBackups).toHaveBeenCalledTimes(3)); // on start and on end
  });

  it('says why a backup failed, blaming what failed, with the detail one click away; a pruned one offers nothing', async () => {
    m(api.listBackups).mockResolvedValue([
      { id: 'b2', status: 'failed', origin: 'scheduled', started: '2026-11-23T10:00:00Z', durationSeconds: 1, rawSize: 0, storedSize: 0, copies: [], blame: 'database',
        reason: 'Cannot connect to db.example:5432/shop as "reader": the server refused the password', error: 'back up shop: cannot connect … (FATAL: password authentication failed for user "reader" (SQLSTATE 28P01))' },
      { id: 'b1', status: 'pruned', origin: 'manual', started: '2026-11-01T10:00:00Z', durationSeconds: 2, rawSize: 1e6, storedSize: 3e5, copies: [{ storage: 'nas', status: 'deleted' }] },
    ]);
    const user = userEvent.setup();
    renderWithTheme(<DatabasePage db={db} onBack={() => {}} />);
    const reason = await screen.findByTestId('backup-reason');
    expect(reason).toHaveTextContent('The database failed: Cannot connect to db.example:5432/shop as "reader": the server refused the password');
    expect(reason).not.toHaveTextContent('SQLSTATE');
    const rows = screen.getAllByTestId('backup-row');
    expect(within(rows[0]).getByText('nothing written')).toBeInTheDocument();
    expect(within(rows[0]).queryByText(/✗/)).toBeNull();
    await user.click(within(reason).getByRole('button', { name: 'Details' }));
    expect(screen.getByTestId('backup-error-detail')).toHaveTextContent('SQLSTATE 28P01');
    expect(within(rows[1]).getByText('removed by retention')).toBeInTheDocument();
    expect(within(rows[1]).queryByRole('button', { name: /Actions/ })).toBeNull();
  });

  it('lists every reason of its state, and follows the engine’s status events', async () => {
    const reason = (code: string, severity: api.SafetyState, message: string, action: string) => ({ code, severity, message, action, since: '2026-12-06T02:00:00Z' });
    m(api.databaseStatus).mockResolvedValue([
      { name: 'shop', state: 'failing', lastGoodBackup: null, lastGoodSize: 0, lastBackup: null, nextRun: null, recent: [],
        reasons: [reason('backup_failed', 'failing', 'The last backup failed: the server refused the password', 'See why, fix it, and back up again'), reason('no_recovery_kit', 'attention', 'No recovery kit has been saved', 'Save a recovery kit')] },
    ]);
    renderWithTheme(<DatabasePage db={db} onBack={() => {}} />);
    await waitFor(() => expect(screen.getByTestId('page-state')).toHaveAttribute('data-state', 'failing'));
    expect(screen.queryByTestId('last-check')).toBeNull(); // no "verified" badge beside a failing database
    const reasons = screen.getAllByTestId('state-reason');
    expect(reasons.map((r) => r.dataset.code)).toEqual(['backup_failed', 'no_recovery_kit']);
    expect(reasons[0]).toHaveTextContent('See why, fix it, and back up again');
    act(() => emit({ type: 'status.changed', database: 'shop', at: at(), status: { name: 'shop', state: 'protected', lastGoodBackup: null, lastGoodSize: 0, lastBackup: null, nextRun: null, recent: [], reasons: [] } }));
    expect(screen.getByTestId('page-state')).toHaveAttribute('data-state', 'protected');
    expect(screen.queryByTestId('state-reasons')).toBeNull();
    expect(await screen.findByTestId('last-check')).toBeInTheDocument();
  });

  it('charts the size and duration of the good backups, newest last', async () => {
    const row = (id: string, day: number, size: number, took: number): api.BackupRow => ({
      id, status: 'succeeded', origin: 'scheduled', started: `2026-11-${day}T02:00:00Z`, durationSeconds: took, rawSize: size * 4, storedSize: size, copies: [{ storage: 'nas', status: 'written' }],
    });
    m(api.listBackups).mockResolvedValue([row('b3', 23, 2_400_000, 95), row('b2', 22, 2_300_000, 80), { ...row('bx', 21, 0, 1), status: 'failed' }, row('b1', 20, 2_200_000, 70)]);
    renderWithTheme(<DatabasePage db={db} onBack={() => {}} />);
    const chart = await screen.findByTestId('backup-history-chart');
    expect(chart).toHaveTextContent('last 3 good backups · newest 2.4 MB in 1 min 35 s');
  });

  it('says why a backup cannot start', async () => {
    m(api.startBackup).mockRejectedValue(new Error('a backup of shop is already running'));
    const user = userEvent.setup();
    renderWithTheme(<DatabasePage db={db} onBack={() => {}} />);
    await user.click(await screen.findByRole('button', { name: 'Back up now' }));
    expect(await screen.findByText(/already running/)).toBeInTheDocument();
  });

  it('asks for a storage before the first backup', async () => {
    renderWithTheme(<DatabasePage db={{ ...db, storageIds: [] }} onBack={() => {}} />);
    expect(await screen.findByText('No storage yet')).toBeInTheDocument();
    expect(screen.getByRole('button', { name: 'Back up now' })).toBeDisabled();
  });
});

describe('storages page', () => {
  it('tests a storage and shows the result in words', async () => {
    m(api.testStorage).mockRejectedValueOnce(new Error('the disk of /media/usb is full: free some space or choose another storage'));
    m(api.testStorage).mockResolvedValueOnce();
    const user = userEvent.setup();
    renderWithTheme(<StoragesPage />);
    const rows = await screen.findAllByTestId('storage-row');
    await user.click(within(rows[1]).getByRole('button', { name: 'Test' }));
    expect(await within(rows[1]).findByTestId('storage-test-result')).toHaveTextContent('✗ The disk of /media/usb is full');
    await user.click(within(rows[0]).getByRole('button', { name: 'Test' }));
    expect(await within(rows[0]).findByTestId('storage-test-result')).toHaveTextContent('✓ Works');
  });

  it('adds an S3 storage, the secret going only to the Go side', async () => {
    m(api.addStorage).mockResolvedValue();
    const user = userEvent.setup();
    renderWithTheme(<StoragesPage />);
    await user.click(await screen.findByRole('button', { name: 'Add storage' }));
    await user.click(screen.getByText('S3 / compatible'));
    await user.type(screen.getByLabelText(/Name/), 'offsite');
    await user.type(screen.getByLabelText(/Bucket/), 'backups');
    await user.type(screen.getByLabelText('Access key ID'), 'AKID');
    await user.type(screen.getByLabelText('Secret access key'), 's3cr3t-value');
    await user.click(screen.getByLabelText(/Path-style/));
    await user.click(screen.getByRole('button', { name: 'Test and save' }));
    expect(api.addStorage).toHaveBeenCalledWith(expect.objectContaining({ kind: 's3', name: 'offsite', bucket: 'backups', accessKeyId: 'AKID', secretKey: 's3cr3t-value', pathStyle: true }));
    await waitFor(() => expect(screen.queryByRole('dialog')).not.toBeInTheDocument());
    expect(document.body.innerHTML).not.toContain('s3cr3t-value');
  });

  it('needs the SFTP host key checked before saving', async () => {
    m(api.storageHostKey).mockResolvedValue({ fingerprint: 'SHA256:abcDEF123', key: 'ssh-ed25519 AAAAkey' });
    m(api.addStorage).mockResolvedValue();
    const user = userEvent.setup();
    renderWithTheme(<StoragesPage />);
    await user.click(await screen.findByRole('button', { name: 'Add storage' }));
    await user.click(screen.getByText('SFTP'));
    await user.type(screen.getByLabelText(/Name/), 'box');
    await user.type(screen.getByLabelText('Host'), 'sftp.example');
    expect(screen.getByRole('button', { name: 'Test and save' })).toBeDisabled();
    await user.click(screen.getByRole('button', { name: 'Show the server’s host key' }));
    expect(await screen.findByText('SHA256:abcDEF123')).toBeInTheDocument();
    await user.click(screen.getByLabelText(/fingerprint the server’s administrator gave me/));
    await user.click(screen.getByRole('button', { name: 'Test and save' }));
    expect(api.addStorage).toHaveBeenCalledWith(expect.objectContaining({ kind: 'sftp', host: 'sftp.example', hostKey: 'ssh-ed25519 AAAAkey' }));
  });
});

describe('formatting', () => {
  it('formats bytes and durations as people read them', () => {
    expect(api.formatBytes(999)).toBe('999 B');
    expect(api.formatBytes(1_500_000)).toBe('1.5 MB');
    expect(api.formatBytes(250e9)).toBe('250 GB');
    expect(api.formatDuration(3)).toBe('3 s');
    expect(api.formatDuration(3725)).toBe('1 h 2 min');
  });
});

describe('choosing storages', () => {
  it('enables Back up now once a storage is saved', async () => {
    m(api.setDatabaseStorages).mockResolvedValue();
    const user = userEvent.setup();
    renderWithTheme(<DatabasePage db={{ ...db, storageIds: [] }} onBack={() => {}} />);
    expect(await screen.findByText('No storage yet')).toBeInTheDocument();
    await user.click(screen.getAllByLabelText(/^Storages/)[0]);
    await user.click(await screen.findByRole('option', { name: 'nas' }));
    await user.click(screen.getByRole('button', { name: 'Save' }));
    expect(api.setDatabaseStorages).toHaveBeenCalledWith('shop', ['nas']);
    await waitFor(() => expect(screen.getByRole('button', { name: 'Back up now' })).toBeEnabled());
    expect(screen.queryByText('No storage yet')).not.toBeInTheDocument();
  });
});
