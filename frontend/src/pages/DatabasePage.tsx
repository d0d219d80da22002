import { Alert, Anchor, Badge, Button, Group, MultiSelect, NumberInput, Paper, Progress, Stack, Text, Title } from '@mantine/core';
import { useHotkeys } from '@mantine/hooks';
import { IconArrowLeft, IconPlayerPlay, IconPlayerStop, IconRestore } from '@tabler/icons-react';
import { useEffect, useState } from 'react';
import {
  cancelBackup,
  drillBackup,
  drillPolicy,
  drillServer,
  formatBytes,
  lastCheck,
  setDrillPolicy,
  verifyBackup,
  type BackupCheck,
  type DrillServer,
  formatDuration,
  listBackups,
  listStorages,
  runningBackups,
  setDatabaseStorages,
  startBackup,
  toApiError,
  type ApiError,
  type BackupProgress,
  type EngineEvent,
  type BackupRow,
  type DatabaseView,
} from '../api';
import { ErrorNotice } from '../components/ErrorNotice';
import { HealthPanel } from '../components/HealthPanel';
import { ServerNote } from '../components/ServerNote';
import { ManageDatabasePanel, RoleWarning } from '../components/ManageDatabasePanel';
import { RetentionPanel } from '../components/RetentionPanel';
import { SchedulePanel } from '../components/SchedulePanel';
import { RestoreDialog, type RestoreSource } from '../components/RestoreDialog';
import { BackupHistoryChart } from '../components/BackupHistoryChart';
import { StateBadge, StateReasons, useDatabaseState } from '../components/DatabaseState';
import { addressLine } from '../components/DatabaseCard';
import { BackupsTable, LastCheckBadge } from '../components/BackupsTable';
import { seedRunningBackup, useEngineEvents, useFinishedJob, useRunningJob } from '../stores/jobs';
import { useCall } from '../useCall';
import { useSaver } from '../useSaver';
import { UnsavedHint, useUnsavedChanges } from '../unsaved';

const phaseWords: Record<string, string> = {
  connecting: 'Connecting and taking a consistent snapshot…',
  counting: 'Counting rows in the snapshot…',
  dumping: 'Dumping',
  finishing: 'Writing the manifest…',
  done: 'Done',
};

/** One database: back up now with live progress, its storages, its backups. */
export function DatabasePage({ db, onBack, onChanged }: { db: DatabaseView; onBack: () => void; onChanged?: () => void }) {
  const backups = useCall(() => listBackups(db.name), `list the backups of ${db.name}`);
  const storages = useCall(listStorages, 'list your storages');
  const job = useRunningJob(db.name, 'backup');
  const finished = useFinishedJob(db.name, 'backup');
  // Between "Back up now" and the engine's job.started, the page already shows it starting.
  const [starting, setStarting] = useState(false);
  const progress = job ? (job.backup ?? startingProgress(db.name, job.jobId)) : starting ? startingProgress(db.name) : null;
  const drill = useRunningJob(db.name, 'drill');
  const state = useDatabaseState(db.name);
  const [error, setError] = useState<ApiError | null>(null);
  const [storageIds, setStorageIds] = useState<number[]>(db.storageIds ?? []);
  useEffect(() => setStorageIds(db.storageIds ?? []), [(db.storageIds ?? []).join(',')]); // eslint-disable-line react-hooks/exhaustive-deps
  const checked = useCall(() => lastCheck(db.name), `read when ${db.name} was last verified`);
  const [checking, setChecking] = useState<{ id: string; kind: string } | null>(null);
  const [check, setCheck] = useState<BackupCheck | null>(null);
  const [restoring, setRestoring] = useState<RestoreSource | null>(null);

  useEffect(() => {
    // A backup may already be running (started from the tray or a schedule before the window opened).
    runningBackups().then((rs) => rs.filter((r) => r.database === db.name).forEach(seedRunningBackup), () => {});
  }, [db.name]);
  // Whatever started a job on this database (this window, the tray, a schedule, a drill rule), its end shows here.
  useEngineEvents((ev) => {
    if (ev.database !== db.name) return;
    if (ev.type === 'job.started' || ev.type === 'job.finished') backups.reload();
    if (ev.type === 'job.finished' && ev.job !== 'backup') checked.reload();
  });
  // A job that ended before this page's last "Back up now" is not its outcome.
  const [startedAt, setStartedAt] = useState(0);
  const shownFinished = finished && Date.parse(finished.at) >= startedAt ? finished : undefined;
  useEffect(() => {
    if (job || shownFinished) setStarting(false);
  }, [job, shownFinished]);

  const start = async () => {
    setError(null);
    setStartedAt(Date.now());
    setStarting(true);
    try {
      await startBackup(db.name);
    } catch (e) {
      setStarting(false);
      setError(toApiError(`start a backup of ${db.name}`, e));
    }
  };
  useHotkeys([['mod+B', () => !progress && start()]]);

  const runCheck = async (id: string, kind: 'verify' | 'drill') => {
    setChecking({ id, kind });
    setCheck(null);
    setError(null);
    try {
      setCheck(await (kind === 'verify' ? verifyBackup(id) : drillBackup(id)));
    } catch (e) {
      setError(toApiError(kind === 'verify' ? 'verify the backup' : 'run a restore drill', e));
    } finally {
      setChecking(null);
      backups.reload();
      checked.reload();
    }
  };
  const restoreFrom = (b: BackupRow) =>
    setRestoring({ backupId: b.id, label: db.name, started: b.started, storedSize: b.storedSize, server: db.urlCommandSet ? 'the server its command names' : `${db.host}:${db.port}` });
  const latestGood = (backups.state.data ?? []).find((b) => b.status === 'succeeded');

  const hasStorage = storageIds.length > 0;
  return (
    <Stack gap="lg">
      <Group justify="space-between" wrap="nowrap">
        <Group gap="xs" wrap="nowrap">
          <Anchor component="button" type="button" onClick={onBack} aria-label="Back to Overview">
            <IconArrowLeft size={18} />
          </Anchor>
          <div>
            <Group gap="xs" wrap="nowrap">
              <Title order={1} size="h3">
                {db.name}
              </Title>
              <StateBadge s={state} />
            </Group>
            <Group gap="xs">
              <Text size="sm" c="dimmed" className="selectable">
                {db.allDatabases && !db.urlCommandSet ? `${db.user}@${db.host}:${db.port} · every database` : addressLine(db)}
              </Text>
              {/* As on its card: a "verified ✓" of an older backup beside a failing database would read as "safe". */}
              {checked.state.data && state?.state !== 'failing' && <LastCheckBadge c={checked.state.data} />}
            </Group>
          </div>
        </Group>
        <Group gap="xs" wrap="nowrap">
          <Button variant="default" leftSection={<IconRestore size={16} />} disabled={!latestGood || db.allDatabases} onClick={() => latestGood && restoreFrom(latestGood)}>
            Restore latest
          </Button>
          <Button leftSection={<IconPlayerPlay size={16} />} onClick={start} disabled={!!progress || !hasStorage} title="Ctrl+B">
            Back up now
          </Button>
        </Group>
      </Group>
      {!hasStorage && (
        <Alert color="yellow" variant="light" title="No storage yet">
          Choose at least one storage below; backups go to every storage you choose.
        </Alert>
      )}
      <ServerNote db={db} />
      <RoleWarning db={db.name} onChanged={onChanged} />
      <StateReasons s={state} />
      {error && <ErrorNotice error={error} />}
      {progress && <ProgressPanel p={progress} onCancel={() => cancelBackup(db.name).catch((e) => setError(toApiError('cancel the backup', e)))} />}
      {!progress && shownFinished && <FinishedNotice f={shownFinished} row={backups.state.data?.find((b) => b.id === shownFinished.jobId)} />}
      {drill && !checking && (
        <Alert color="blue" variant="light" title={`Restore drill (${drill.origin === 'drill rule' ? 'by the drill rule' : drill.origin}): restoring into a scratch database and counting rows…`} data-testid="drill-running">
          <Progress value={100} animated size="sm" />
        </Alert>
      )}
      {checking && (
        <Alert color="blue" variant="light" title={checking.kind === 'verify' ? 'Verifying: reading and authenticating the whole backup…' : 'Restore drill: restoring into a scratch database and counting rows…'} data-testid="check-running">
          <Progress value={100} animated size="sm" />
        </Alert>
      )}
      {check && <CheckNotice c={check} />}
      {!db.serverEntry && <StoragesChooser db={db.name} ids={storageIds} onSaved={(ids) => { setStorageIds(ids); onChanged?.(); }} all={storages.state.data?.map((s) => ({ id: s.id, name: s.name })) ?? []} />}
      <BackupHistoryChart rows={backups.state.data ?? []} />
      <Paper withBorder radius="md" p="md">
        <Title order={2} size="h5" mb="sm">
          Backups
        </Title>
        {backups.state.error && <ErrorNotice error={backups.state.error} onRetry={backups.reload} />}
        <BackupsTable
          rows={backups.state.data ?? []}
          busy={!!checking}
          onVerify={(b) => runCheck(b.id, 'verify')}
          onDrill={(b) => runCheck(b.id, 'drill')}
          onRestore={restoreFrom}
        />
      </Paper>
      {!db.serverEntry && (
        <>
          <SchedulePanel db={db.name} />
          <RetentionPanel db={db.name} />
          <DrillPanel db={db.name} />
          <HealthPanel db={db.name} />
        </>
      )}
      <ManageDatabasePanel db={db.name} onChanged={onChanged} onRemoved={onBack} />
      <RestoreDialog source={restoring} onClose={() => setRestoring(null)} />
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
      {p.waiting && (
        <Text size="sm" c="orange" mt="xs" data-testid="backup-waiting" className="selectable">
          {p.waiting.charAt(0).toUpperCase() + p.waiting.slice(1)}
        </Text>
      )}
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

/** What a job.started shows until the backup's first progress. */
function startingProgress(database: string, backupId = ''): BackupProgress {
  return { database, backupId, phase: 'connecting', rawBytes: 0, estimatedBytes: 0, storedBytes: 0, bytesPerSecond: 0, elapsedSeconds: 0, etaSeconds: 0 };
}

const originWords: Record<string, string> = { manual: '', scheduled: ' (scheduled)' };

/** How the newest backup ended, with what it wrote when the history has its row. */
function FinishedNotice({ f, row }: { f: EngineEvent; row?: BackupRow }) {
  const origin = originWords[f.origin ?? ''] ?? ` (${f.origin})`;
  if (f.outcome === 'succeeded' || f.outcome === 'partial') {
    const what = row ? `${formatBytes(row.storedSize)} written in ${formatDuration(row.durationSeconds)}` : '';
    return (
      <Alert color={f.outcome === 'partial' ? 'yellow' : 'green'} variant="light" title={(f.outcome === 'partial' ? 'Backed up, but not to every storage' : 'Backed up ✓') + origin} data-testid="backup-finished" data-outcome={f.outcome}>
        {what && <Text size="sm">{what}</Text>}
        {f.error && <Text size="sm" className="selectable">{row?.reason ?? f.error}</Text>}
      </Alert>
    );
  }
  return (
    <Alert color={f.outcome === 'cancelled' ? 'gray' : 'red'} variant="light" title={(f.outcome === 'cancelled' ? 'Backup cancelled: nothing was kept' : 'The backup failed: nothing was kept') + origin} data-testid="backup-finished" data-outcome={f.outcome}>
      <Text size="sm" className="selectable">
        {row?.reason ?? f.error}
      </Text>
    </Alert>
  );
}

function StoragesChooser({ db, ids, onSaved, all }: { db: string; ids: number[]; onSaved: (ids: number[]) => void; all: { id: number; name: string }[] }) {
  const current = all.filter((s) => ids.includes(s.id)).map((s) => s.name);
  const [value, setValue] = useState<string[]>(current);
  const { state, error, save: run, edited } = useSaver('choose the storages');
  useEffect(() => setValue(current), [current.join(',')]); // eslint-disable-line react-hooks/exhaustive-deps
  const dirty = [...value].sort().join(',') !== [...current].sort().join(',');
  useUnsavedChanges(dirty, 'Storages');
  const save = () =>
    run(async () => {
      await setDatabaseStorages(db, value);
      onSaved(all.filter((s) => value.includes(s.name)).map((s) => s.id));
    });
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
            edited();
          }}
          placeholder={all.length ? 'Choose storages' : 'Add a storage first (Storages)'}
          style={{ flex: 1 }}
        />
        <Button variant="light" onClick={save} loading={state === 'saving'} disabled={value.length === 0}>
          {state === 'saved' && !dirty ? 'Saved ✓' : 'Save'}
        </Button>
      </Group>
      <UnsavedHint show={dirty} />
      {error && <ErrorNotice error={error} />}
    </Paper>
  );
}

function CheckNotice({ c }: { c: BackupCheck }) {
  const what = c.kind === 'drill' ? 'Restore drill' : 'Verification';
  if (c.ok) {
    return (
      <Alert color="green" variant="light" title={`${what} passed ✓`} data-testid="check-result">
        {c.kind === 'drill'
          ? `${c.summary ? c.summary.replace(/^Restore drill passed: /, '') + '. ' : `All ${c.tables} tables have the row counts recorded at backup time. `}${
              c.server?.startsWith('local') ? 'The throwaway server was stopped and removed.' : 'The scratch database was dropped.'
            }`
          : `Every chunk authenticated, size and SHA-256 match, and pg_restore read the table of contents (${c.tables} tables).`}
        {` Took ${formatDuration(c.durationSeconds)} in all.`}
      </Alert>
    );
  }
  return (
    <Alert color="red" variant="light" title={`${what} found a problem`} data-testid="check-result">
      <Text size="sm" className="selectable">
        {c.problem}
      </Text>
      {c.rowDiffs && c.rowDiffs.length > 0 && (
        <Text size="sm" mt="xs" className="selectable">
          {c.rowDiffs.join('; ')}
        </Text>
      )}
    </Alert>
  );
}

/** Where drills run without a drill server: a throwaway local PostgreSQL, or why not. */
function LocalDrillNote({ server }: { server: DrillServer }) {
  if (server.local && !server.localProblem) {
    return (
      <Text size="sm" mb="sm" data-testid="drill-local">
        No drill server is set, so drills run in a throwaway {server.local.replace(/ \(.*\)$/, '')} that PgSafe starts on this computer and removes afterwards.
      </Text>
    );
  }
  return (
    <Alert color="yellow" variant="light" mb="sm" data-testid="drill-local">
      {server.localProblem} Or set a drill server in Settings (a PostgreSQL server where PgSafe may create scratch databases).
    </Alert>
  );
}

/** Automatic restore drills after backups, on the drill server set in Settings or a throwaway local PostgreSQL. */
function DrillPanel({ db }: { db: string }) {
  const server = useCall(drillServer, 'read the drill server');
  const policy = useCall(() => drillPolicy(db), 'read the drill schedule');
  const [everyBackups, setEveryBackups] = useState(0);
  const [everyDays, setEveryDays] = useState(0);
  const { state, error, save: run, edited } = useSaver('save the drill schedule');
  useEffect(() => {
    if (policy.state.data) {
      setEveryBackups(policy.state.data.everyBackups);
      setEveryDays(policy.state.data.everyDays);
    }
  }, [policy.state.data]);
  const dirty = !!policy.state.data && (policy.state.data.everyBackups !== everyBackups || policy.state.data.everyDays !== everyDays);
  useUnsavedChanges(dirty, 'Restore drills');
  const save = () => run(async () => {
    await setDrillPolicy(db, { everyBackups, everyDays });
    policy.reload();
  });
  return (
    <Paper withBorder radius="md" p="md">
      <Title order={2} size="h5">
        Restore drills
      </Title>
      <Text size="sm" c="dimmed" mb="sm">
        A drill restores a backup into a scratch database, compares every table’s rows with the backup’s snapshot, then drops it. 0 turns a rule off.
      </Text>
      {server.state.data && !server.state.data.set && <LocalDrillNote server={server.state.data} />}
      <Group align="end" wrap="nowrap">
        <NumberInput label="After every Nth backup" min={0} max={1000} value={everyBackups} onChange={(v) => { setEveryBackups(Number(v) || 0); edited(); }} />
        <NumberInput label="Or when the last drill is N days old" min={0} max={365} value={everyDays} onChange={(v) => { setEveryDays(Number(v) || 0); edited(); }} />
        <Button variant="light" onClick={save} loading={state === 'saving'}>
          {state === 'saved' && !dirty ? 'Saved ✓' : 'Save drills'}
        </Button>
      </Group>
      <UnsavedHint show={dirty} />
      {error && <ErrorNotice error={error} />}
    </Paper>
  );
}
