import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import * as api from './api';
import { formatDateTime } from './format';
import { ActivityPage } from './pages/ActivityPage';
import { renderWithTheme } from './test/render';

vi.mock('./api', async (importOriginal) => {
  const real = await importOriginal<typeof import('./api')>();
  return { ...real, listActivity: vi.fn(), listDatabases: vi.fn(), verifyActivity: vi.fn() };
});

const m = vi.mocked;

const entries: api.AuditRecord[] = [
  {
    seq: 9, at: '2026-12-06T02:00:05Z', actor: 'pgsafe', action: 'backup.failed', outcome: 'failed', target: 'Shop',
    fields: { backup_id: '0b9c1e2f-3a4d-4e5f-8a6b-7c8d9e0f1a2b', origin: 'scheduled' },
    message: 'backup of Shop: cannot connect to db:5432/shop as "b": the server refused the password (server said: password authentication failed)',
    sentence: 'Backup of Shop failed: the server refused the password (scheduled)', kind: 'backups', database: 'Shop',
  },
  {
    seq: 8, at: '2026-12-05T15:00:00Z', actor: 'ada', action: 'backup.verify', outcome: 'ok', target: 'Shop',
    fields: { backup_id: '1b9c1e2f-3a4d-4e5f-8a6b-7c8d9e0f1a2b' },
    sentence: 'Verified Shop’s backup of {when}', sentenceTime: '2026-12-05T14:02:00Z', kind: 'checks', database: 'Shop',
  },
  {
    seq: 7, at: '2026-12-05T14:02:02Z', actor: 'ada', action: 'backup.finished', outcome: 'ok', target: 'Blog',
    fields: { backup_id: '2b9c1e2f-3a4d-4e5f-8a6b-7c8d9e0f1a2b', stored_size: '34800000', storages: '1' },
    sentence: 'Backed up Blog: 34.8 MB to Local disk in 2 s', kind: 'backups', database: 'Blog',
  },
  { seq: 6, at: '2026-12-05T14:00:00Z', actor: 'ada', action: 'schedule.paused', outcome: 'ok', target: 'schedules', fields: { until: 'resumed' }, sentence: 'Paused scheduled backups until resumed', kind: 'settings' },
];

// The Go side filters; this stand-in keeps what the filter names, as it does.
function serve(f: api.AuditFilter): api.AuditRecord[] {
  return entries.filter(
    (e) =>
      (!f.database || e.database === f.database) &&
      (!f.kind || e.kind === f.kind) &&
      (!f.outcome || (f.outcome === 'ok' ? e.outcome === 'ok' : e.outcome !== 'ok')),
  );
}

beforeEach(() => {
  m(api.listActivity).mockImplementation(async (f) => serve(f));
  m(api.listDatabases).mockResolvedValue([
    { id: 1, name: 'Shop', host: 'db', port: 5432, dbname: 'shop', user: 'b', passwordSet: true, sslmode: '', ssh: false, countRows: true },
    { id: 2, name: 'Blog', host: 'db', port: 5432, dbname: 'blog', user: 'b', passwordSet: true, sslmode: '', ssh: false, countRows: true },
  ] as api.DatabaseView[]);
  m(api.verifyActivity).mockResolvedValue({ intact: true, entries: 9, goodTo: 9 });
});

async function pick(user: ReturnType<typeof userEvent.setup>, label: string, option: string) {
  await user.click(screen.getByRole('combobox', { name: label }));
  await user.click(await screen.findByRole('option', { name: option }));
}

const sentences = () => screen.getAllByTestId('activity-sentence').map((e) => e.textContent);

describe('activity', () => {
  it('says each entry in words, its time in the user’s locale, with no codes or ids', async () => {
    renderWithTheme(<ActivityPage />);
    await waitFor(() => expect(screen.getAllByTestId('activity-row')).toHaveLength(4));
    expect(sentences()).toEqual([
      'Backup of Shop failed: the server refused the password (scheduled)',
      `Verified Shop’s backup of ${formatDateTime('2026-12-05T14:02:00Z')}`,
      'Backed up Blog: 34.8 MB to Local disk in 2 s',
      'Paused scheduled backups until resumed',
    ]);
    const table = screen.getByTestId('activity-table');
    expect(table).not.toHaveTextContent('backup.failed');
    expect(table).not.toHaveTextContent('0b9c1e2f');
    expect(table).not.toHaveTextContent('34800000');
    expect(table).toHaveTextContent(formatDateTime('2026-12-06T02:00:05Z'));
  });

  it('an entry opens to its raw fields, and closes again', async () => {
    const user = userEvent.setup();
    renderWithTheme(<ActivityPage />);
    const rows = await screen.findAllByTestId('activity-row');
    expect(screen.queryByTestId('activity-raw')).toBeNull();
    await user.click(rows[0]);
    const raw = screen.getByTestId('activity-raw');
    for (const part of ['entry: 9', 'action: backup.failed', 'outcome: failed', 'target: Shop', 'backup_id: 0b9c1e2f-3a4d-4e5f-8a6b-7c8d9e0f1a2b', 'origin: scheduled', 'by: pgsafe', 'server said: password authentication failed']) {
      expect(raw).toHaveTextContent(part);
    }
    expect(rows[0]).toHaveAttribute('aria-expanded', 'true');
    await user.click(within(rows[0]).getByRole('button', { name: 'Hide the details' }));
    expect(screen.queryByTestId('activity-raw')).toBeNull();
  });

  it('filters by database, kind and outcome', async () => {
    const user = userEvent.setup();
    renderWithTheme(<ActivityPage />);
    await waitFor(() => expect(screen.getAllByTestId('activity-row')).toHaveLength(4));

    await pick(user, 'Database', 'Shop');
    await waitFor(() => expect(sentences()).toHaveLength(2));
    expect(api.listActivity).toHaveBeenLastCalledWith(expect.objectContaining({ database: 'Shop', kind: '', outcome: '' }));
    expect(sentences().every((s) => s?.includes('Shop'))).toBe(true);

    await pick(user, 'Kind', 'Checks, verifications and drills');
    await waitFor(() => expect(sentences()).toHaveLength(1));
    expect(sentences()[0]).toMatch(/^Verified Shop’s backup of/);
    expect(api.listActivity).toHaveBeenLastCalledWith(expect.objectContaining({ database: 'Shop', kind: 'checks' }));

    await pick(user, 'Kind', 'Everything');
    await pick(user, 'Outcome', 'Failed or refused');
    await waitFor(() => expect(sentences()).toEqual(['Backup of Shop failed: the server refused the password (scheduled)']));
    expect(api.listActivity).toHaveBeenLastCalledWith(expect.objectContaining({ database: 'Shop', kind: '', outcome: 'failed' }));

    await pick(user, 'Database', 'Blog');
    expect(await screen.findByText('Nothing recorded that matches these filters.')).toBeInTheDocument();
  });
});
