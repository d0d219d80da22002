import { Alert, Anchor, Badge, Button, Group, MultiSelect, Paper, Progress, Stack, Table, Text, Title, Tooltip } from '@mantine/core';
import { useHotkeys } from '@mantine/hooks';
import { IconArrowLeft, IconPlayerPlay, IconPlayerStop } from '@tabler/icons-react';
import { useEffect, useState } from 'react';
import {
  cancelBackup,
  formatBytes,
  formatDuration,
  listBackups,
  listStorages,
  onBackupEvents,
  runningBackups,
  setDatabaseStorages,
  startBackup,
  toApiError,
  type ApiError,
  type BackupFinished,
  type BackupProgress,
  type BackupRow,
  type DatabaseView,
} from '../api';
import { ErrorNotice } from '../components/ErrorNotice';
import { useCall } from '../useCall';

const phaseWords: Record<string, string> = {
  connecting: 'Connecting and taking a consistent snapshot…',
  counting: 'Counting rows in the snapshot…',
  dumping: 'Dumping',
  finishing: 'Writing the manifest…',
  done: 'Done',
};

/** One database: back up now with live progress, its storages, its backups. */
export function DatabasePage({ db, onBack }: { db: DatabaseView; onBack: () => void }) {
  const backups = useCall(() => listBackups(db.name), `list the backups of ${db.name}`);
  const storages = useCall(listStorages, 'list your storages');
  const [progress, setProgress] = useState<BackupProgress | null>(null);
  const [finished, setFinished] = useState<BackupFinished | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const [storageIds, setStorageIds] = useState<number[]>(db.storageIds ?? []);

  useEffect(() => {
    // A backup may already be running (started from the tray or a schedule).
    runningBackups().then((rs) => setProgress(rs.find((r) => r.database === db.name) ?? null), () => {});
    return onBackupEvents(
      (p) => p.database === db.name && setProgress(p),
      (f) => {
        if (f.database !== db.name) return;
        setProgress(null);
        setFinished(f);
        backups.reload();
      },
    );
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [db.name]);

  const start = async () => {
    setError(null);
    setFinished(null);
    try {
      await startBackup(db.name);
      setProgress({ database: db.name, backupId: '', phase: 'connecting', rawBytes: 0, estimatedBytes: 0, storedBytes: 0, bytesPerSecond: 0, elapsedSeconds: 0, etaSeconds: 0 });
    } catch (e) {
      setError(toApiError(`start a backup of ${db.name}`, e));
    }
  };
  useHotkeys([['mod+B', () => !progress && start()]]);

  const hasStorage = storageIds.length > 0;
  return (
    <Stack gap="lg">
      <Group justify="space-between" wrap="nowrap">
        <Group gap="xs" wrap="nowrap">
          <Anchor component="button" type="button" onClick={onBack} aria-label="Back to Overview">
            <IconArrowLeft size={18} />
          </Anchor>
          <div>
            <Title order={1} size="h3">
              {db.name}
            </Title>
            <Text size="sm" c="dimmed" className="selectable">
              {db.user}@{db.host}:{db.port}/{db.dbname}
            </Text>
          </div>
        </Group>
        <Button leftSection={<IconPlayerPlay size={16} />} onClick={start} disabled={!!progress || !hasStorage} title="Ctrl+B">
          Back up now
        </Button>
      </Group>
      {!hasStorage && (
        <Alert color="yellow" variant="light" title="No storage yet">
          Choose at least one storage below; backups go to every storage you choose.
        </Alert>
      )}
      {error && <ErrorNotice error={error} />}
      {progress && <ProgressPanel p={progress} onCancel={() => cancelBackup(db.name).catch((e) => setError(toApiError('cancel the backup', e)))} />}
      {finished && <FinishedNotice f={finished} />}
      <StoragesChooser db={db.name} ids={storageIds} onSaved={setStorageIds} all={storages.state.data?.map((s) => ({ id: s.id, name: s.name })) ?? []} />
      <Paper withBorder radius="md" p="md">
        <Title order={2} size="h5" mb="sm">
          Backups
        </Title>
        {backups.state.error && <ErrorNotice error={backups.state.error} onRetry={backups.reload} />}
        <BackupsTable rows={backups.state.data ?? []} />
      </Paper>
    </Stack>
  );
}

function ProgressPanel({ p, onCancel }: { p: BackupProgress; onCancel: () => void }) {
  const pct = p.estimatedBytes > 0 ? Math.min(99, (p.rawBytes / p.estimatedBytes) * 100) : 0;
  const dumping = p.phase === 'dumping';
  return (
    <Paper withBorder radius="md" p="md" data-testid="backup-progress" aria-live="polite">
      <Group justify="space-between" mb="xs" wrap="nowrap">
        <Text fw={600} size="sm">
          {phaseWords[p.phase] ?? p.phase}
          {dumping && p.table ? ` ${p.table}` : dumping ? '…' : ''}
        </Text>
        <Button size="xs" variant="default" color="red" leftSection={<IconPlayerStop size={14} />} onClick={onCancel}>
          Cancel
        </Button>
      </Group>
      <Progress value={dumping ? pct : p.phase === 'finishing' ? 100 : 0} animated={!dumping || pct === 0} size="lg" />
      <Text size="sm" c="dimmed" mt="xs" data-testid="backup-numbers">
        {formatBytes(p.rawBytes)}
        {p.estimatedBytes > 0 ? ` of about ${formatBytes(p.estimatedBytes)}` : ''}
        {p.bytesPerSecond > 0 ? ` · ${formatBytes(p.bytesPerSecond)}/s` : ''}
        {p.etaSeconds > 0 ? ` · about ${formatDuration(p.etaSeconds)} left` : ''}
        {` · ${formatDuration(p.elapsedSeconds)} so far`}
      </Text>
      {(p.storages ?? []).length > 0 && (
        <Group gap="xs" mt="xs">
          {(p.storages ?? []).map((s) => (
            <Badge key={s.id} variant="light" color={s.error ? 'red' : 'gray'} tt="none" title={s.error}>
              {s.name}: {s.error ? 'dropped out' : formatBytes(s.bytes)}
            </Badge>
          ))}
        </Group>
      )}
    </Paper>
  );
}

function FinishedNotice({ f }: { f: BackupFinished }) {
  if (f.status === 'succeeded') {
    return (
      <Alert color={f.error ? 'yellow' : 'green'} variant="light" title={f.error ? 'Backed up, but not to every storage' : 'Backup finished'} data-testid="backup-finished">
        {f.error && <Text size="sm" className="selectable">{f.error}</Text>}
      </Alert>
    );
  }
  return (
    <Alert color={f.status === 'cancelled' ? 'gray' : 'red'} variant="light" title={f.status === 'cancelled' ? 'Backup cancelled: nothing was kept' : 'The backup failed: nothing was kept'} data-testid="backup-finished">
      <Text size="sm" className="selectable">
        {f.error}
      </Text>
    </Alert>
  );
}

function StoragesChooser({ db, ids, onSaved, all }: { db: string; ids: number[]; onSaved: (ids: number[]) => void; all: { id: number; name: string }[] }) {
  const current = all.filter((s) => ids.includes(s.id)).map((s) => s.name);
  const [value, setValue] = useState<string[]>(current);
  const [state, setState] = useState<'idle' | 'saving' | 'saved'>('idle');
  const [error, setError] = useState<ApiError | null>(null);
  useEffect(() => setValue(current), [current.join(',')]); // eslint-disable-line react-hooks/exhaustive-deps
  const save = async () => {
    setState('saving');
    setError(null);
    try {
      await setDatabaseStorages(db, value);
      onSaved(all.filter((s) => value.includes(s.name)).map((s) => s.id));
      setState('saved');
    } catch (e) {
      setError(toApiError('choose the storages', e));
      setState('idle');
    }
  };
  return (
    <Paper withBorder radius="md" p="md">
      <Group align="end" wrap="nowrap">
        <MultiSelect
          label="Storages"
          description="Each backup is written to all of them at once"
          data={all.map((s) => s.name)}
          value={value}
          onChange={(v) => {
            setValue(v);
            setState('idle');
          }}
          placeholder={all.length ? 'Choose storages' : 'Add a storage first (Storages)'}
          style={{ flex: 1 }}
        />
        <Button variant="light" onClick={save} loading={state === 'saving'} disabled={value.length === 0}>
          {state === 'saved' ? 'Saved ✓' : 'Save'}
        </Button>
      </Group>
      {error && <ErrorNotice error={error} />}
    </Paper>
  );
}

const statusColor: Record<string, string> = { succeeded: 'green', failed: 'red', cancelled: 'gray', running: 'blue' };

export function BackupsTable({ rows }: { rows: BackupRow[] }) {
  if (rows.length === 0) {
    return (
      <Text size="sm" c="dimmed">
        No backups yet.
      </Text>
    );
  }
  return (
    <Table.ScrollContainer minWidth={560}>
      <Table verticalSpacing="xs" data-testid="backups-table">
        <Table.Thead>
          <Table.Tr>
            <Table.Th>Started</Table.Th>
            <Table.Th>Status</Table.Th>
            <Table.Th>Size</Table.Th>
            <Table.Th>Took</Table.Th>
            <Table.Th>Storages</Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {rows.map((b) => (
            <Table.Tr key={b.id} data-testid="backup-row" data-status={b.status}>
              <Table.Td>
                <Tooltip label={`Backup ${b.id}`} openDelay={400}>
                  <Text size="sm">{new Date(b.started).toLocaleString()}</Text>
                </Tooltip>
              </Table.Td>
              <Table.Td>
                <Tooltip label={b.error} disabled={!b.error} multiline w={360}>
                  <Badge color={b.error && b.status === 'succeeded' ? 'yellow' : statusColor[b.status] ?? 'gray'} variant="light" tt="none">
                    {b.status}
                    {b.error && b.status === 'succeeded' ? ' (partly)' : ''}
                  </Badge>
                </Tooltip>
              </Table.Td>
              <Table.Td>
                <Text size="sm">{b.storedSize > 0 ? formatBytes(b.storedSize) : '—'}</Text>
              </Table.Td>
              <Table.Td>
                <Text size="sm">{b.durationSeconds > 0 ? formatDuration(b.durationSeconds) : '—'}</Text>
              </Table.Td>
              <Table.Td>
                <Group gap={4}>
                  {(b.copies ?? []).map((c) => (
                    <Tooltip key={c.storage} label={c.error || c.status} multiline w={320}>
                      <Badge size="sm" variant="default" tt="none" c={c.status === 'failed' ? 'red' : undefined}>
                        {c.status === 'written' ? '✓' : c.status === 'failed' ? '✗' : c.status === 'deleted' ? '⌫' : '…'} {c.storage}
                      </Badge>
                    </Tooltip>
                  ))}
                </Group>
              </Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
    </Table.ScrollContainer>
  );
}
