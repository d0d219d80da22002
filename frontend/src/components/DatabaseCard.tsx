import { Alert, Badge, Box, Button, Group, Paper, Progress, Stack, Text, Tooltip } from '@mantine/core';
import { Sparkline } from '@mantine/charts';
import { IconPlayerPlay } from '@tabler/icons-react';
import { useState } from 'react';
import { formatAge, formatBytes, resumeSchedules, startBackup, startSignInAgain, toApiError, type ApiError, type DatabaseStatus, type DatabaseView, type SafetyState } from '../api';
import { formatDateTime, formatTime } from '../format';
import { useRunningJob } from '../stores/jobs';
import { ErrorNotice } from './ErrorNotice';
import { ServerDatabases, type ServerDatabase } from './ServerDatabases';

export const stateColor: Record<SafetyState, string> = { protected: 'teal', attention: 'yellow', failing: 'red', unprotected: 'gray' };
export const stateWords: Record<SafetyState, string> = { protected: 'Protected', attention: 'Needs attention', failing: 'Failing', unprotected: 'Not backed up yet' };
/** Where a database is, as its card and page say it: user@host:port/db, or that a credentials command names it at each connection. */
export function addressLine(d: { user: string; host: string; port: number; dbname: string; urlCommandSet?: boolean; passwordCommandSet?: boolean }): string {
  if (d.urlCommandSet) return 'connection from a command, run at each backup';
  return `${d.user}@${d.host}:${d.port}/${d.dbname}${d.passwordCommandSet ? ' · password from a command' : ''}`;
}

/** The fixing action's button, short; the reason's whole action sentence is its tooltip. */
const fixLabel: Record<string, string> = {
  no_backup: 'Back up now',
  no_recovery_kit: 'Save a recovery kit',
  schedules_paused: 'Resume schedules',
  never_verified: 'Verify…',
  write_access: 'Use a read-only role…',
  write_access_found: 'Check the role…',
  database_down: 'Check the connection…',
  credentials_command_failed: 'Edit the command…',
  storage_sign_in: 'Sign in again…',
  no_recent_backup: 'Set a schedule…',
};
const order: Record<SafetyState, number> = { failing: 0, unprotected: 1, attention: 2, protected: 3 };

/** Sort key: failing first, then not backed up, needing attention, protected; unknown last. */
export function stateRank(s?: DatabaseStatus): number {
  return s ? order[s.state] : 4;
}

/** Above the cards while any database is failing: which, and why, in words. */
export function FailingBanner({ failing, onOpen }: { failing: DatabaseStatus[]; onOpen: (name: string) => void }) {
  const first = failing[0];
  const title = failing.length === 1 ? `${first.name} is not being backed up safely` : `${failing.length} databases are not being backed up safely`;
  return (
    <Alert color="red" variant="light" title={title} data-testid="failing-banner">
      <Stack gap={4}>
        {failing.map((s) => (
          <Group key={s.name} gap="xs" wrap="nowrap" justify="space-between">
            <Text size="sm" lineClamp={2}>
              {failing.length > 1 ? `${s.name}: ` : ''}
              {s.reasons[0]?.message}
            </Text>
            <Button size="compact-sm" variant="light" color="red" onClick={() => onOpen(s.name)} style={{ flexShrink: 0 }}>
              Open {s.name}
            </Button>
          </Group>
        ))}
      </Stack>
    </Alert>
  );
}

interface CardProps {
  d: DatabaseView;
  s?: DatabaseStatus;
  onOpen: () => void;
  onOpenSettings: () => void;
  /** A server entry's databases, shown inside its card. */
  databases?: ServerDatabase[];
  onOpenDatabase?: (d: DatabaseView) => void;
}

/** One database on Overview: its state in its colour, the worst reason and its fix, its recent backups. */
export function DatabaseCard({ d, s, onOpen, onOpenSettings, databases, onOpenDatabase }: CardProps) {
  const job = useRunningJob(d.name, 'backup');
  const [error, setError] = useState<ApiError | null>(null);
  const first = s?.reasons[0];
  const backUp = () => startBackup(d.name).catch((e) => setError(toApiError(`start a backup of ${d.name}`, e)));
  // The fixing action as a button: the few that can be done right here, otherwise the database's page.
  const fix = () => {
    setError(null);
    switch (first?.code) {
      case 'no_backup':
        return backUp();
      case 'no_recovery_kit':
        return onOpenSettings();
      case 'schedules_paused':
        return resumeSchedules().catch((e) => setError(toApiError('resume the schedules', e)));
      case 'storage_sign_in':
        // Sign in again in the browser, then back up, which clears the reason.
        if (first.storage)
          return startSignInAgain(first.storage)
            .then((si) => si.done)
            .then(backUp)
            .catch((e) => setError(toApiError(`sign storage ${first.storage} in again`, e)));
    }
    onOpen();
  };
  const color = s ? stateColor[s.state] : 'gray';
  return (
    <Paper
      withBorder
      radius="md"
      p="md"
      data-testid="database-card"
      data-name={d.name}
      data-state={s?.state ?? ''}
      data-server={d.allDatabases ? 'true' : undefined}
      style={{
        borderLeft: `4px solid var(--mantine-color-${color}-${s?.state === 'attention' ? 5 : 6})`,
        minWidth: 0,
        ...(d.allDatabases ? { gridColumn: '1 / -1' } : {}),
      }}
    >
      <Group justify="space-between" wrap="nowrap" gap="xs">
        <Group gap="xs" wrap="nowrap" miw={0}>
          <StateDot s={s} />
          <Text fw={600} truncate="end" title={d.name}>
            {d.name}
          </Text>
        </Group>
        {job ? (
          <Badge variant="light" color="blue" tt="none" style={{ flexShrink: 0 }} data-testid="card-running">
            Backing up…
          </Badge>
        ) : (
          <Tooltip label="Back up now">
            <Button size="compact-sm" variant="subtle" onClick={backUp} aria-label={`Back up ${d.name} now`} disabled={(d.storageIds?.length ?? 0) === 0}>
              <IconPlayerPlay size={16} />
            </Button>
          </Tooltip>
        )}
      </Group>
      <Text size="xs" c="dimmed" mt={2} className="selectable" truncate="end">
        {d.allDatabases && !d.urlCommandSet ? `${d.user}@${d.host}:${d.port} · every database${excluded(d.exclude)}` : addressLine(d)}
      </Text>
      {job && <Progress mt={6} size="sm" animated value={backupPercent(job.backup)} aria-label={`Backing up ${d.name}`} />}
      <StateLine s={s} />
      {d.allDatabases && <ServerDatabases server={d.name} databases={databases ?? []} appeared={s?.appeared ?? []} onOpen={(x) => onOpenDatabase?.(x)} />}
      <History s={s} />
      {error && <ErrorNotice error={error} />}
      <Group justify="space-between" mt="xs" wrap="nowrap" gap="xs">
        {first && s?.state !== 'protected' ? (
          <Tooltip label={first.action} multiline maw={280}>
            <Button size="compact-sm" variant="light" color={color} onClick={fix} data-testid="card-fix" data-action={first.action} miw={0}>
              {fixLabel[first.code] ?? 'See why…'}
            </Button>
          </Tooltip>
        ) : (
          <Text size="xs" c="dimmed">
            {(d.storageIds?.length ?? 0) === 0 ? 'No storage chosen yet' : `Backs up to ${d.storageIds!.length} storage${d.storageIds!.length > 1 ? 's' : ''}`}
          </Text>
        )}
        <Button size="compact-sm" variant="default" onClick={onOpen} style={{ flexShrink: 0 }}>
          Backups
        </Button>
      </Group>
    </Paper>
  );
}

/** " but logs, scratch" (names up to three, then how many). */
function excluded(names?: string[]): string {
  if (!names?.length) return '';
  return names.length > 3 ? `, ${names.length} left out` : ` but ${names.join(', ')}`;
}

function backupPercent(p?: { rawBytes: number; estimatedBytes: number }): number {
  return p && p.estimatedBytes > 0 ? Math.min(99, (p.rawBytes / p.estimatedBytes) * 100) : 100;
}

/** The card's dot: the database's state in its colour (grey while it is read). */
function StateDot({ s }: { s?: DatabaseStatus }) {
  const color = s ? stateColor[s.state] : 'gray';
  return (
    <Box
      w={10}
      h={10}
      style={{ borderRadius: 5, background: `var(--mantine-color-${color}-${s?.state === 'attention' ? 5 : 6})`, flexShrink: 0 }}
      aria-label={s ? stateWords[s.state] : 'reading its state'}
      data-testid="state-dot"
      data-state={s?.state ?? ''}
    />
  );
}

/** The card's verdict: the worst reason in words (two lines at most; the rest on the database's page) and what fixes it. */
function StateLine({ s }: { s?: DatabaseStatus }) {
  if (!s) return null;
  const first = s.reasons[0];
  return (
    <Stack gap={0} mt={6} data-testid="state-line" data-state={s.state}>
      <Text size="sm" fw={600} c={s.state === 'protected' ? 'teal.7' : s.state === 'unprotected' ? 'dimmed' : `${stateColor[s.state]}.8`} lineClamp={2} title={first?.message}>
        {stateWords[s.state]}
        {first ? `: ${first.message}` : ''}
      </Text>
      {s.reasons.length > 1 && (
        <Text size="xs" c="dimmed">
          and {s.reasons.length - 1} more on its page
        </Text>
      )}
    </Stack>
  );
}

/** "last good backup 3 h ago · 34.8 MB · next 02:00" and a chart of the recent backups' sizes. */
function History({ s }: { s?: DatabaseStatus }) {
  if (!s) return null;
  const recent = (s.recent ?? []).filter((r) => r.ok);
  const parts = [
    s.lastGoodBackup ? `last good backup ${formatAge(s.lastGoodBackup)} · ${formatBytes(s.lastGoodSize)}` : '',
    s.nextRun ? `next ${formatNext(s.nextRun)}` : 'no schedule',
  ].filter(Boolean);
  return (
    <Group gap="xs" mt={6} wrap="nowrap" align="center" data-testid="card-history">
      <Text size="xs" c="dimmed" style={{ flex: 1, minWidth: 0 }} truncate="end">
        {parts.join(' · ')}
      </Text>
      {recent.length >= 2 && (
        <Tooltip label={`Size of the last ${recent.length} good backups`}>
          <Sparkline w={90} h={24} data={recent.map((r) => r.storedSize)} curveType="linear" color={stateColor[s.state]} fillOpacity={0.25} strokeWidth={1.5} data-testid="card-sparkline" style={{ flexShrink: 0 }} />
        </Tooltip>
      )}
    </Group>
  );
}

/** A next run: the time today, or the weekday and time. */
function formatNext(iso: string): string {
  const t = new Date(iso);
  const now = new Date();
  const sameDay = t.toDateString() === now.toDateString();
  return sameDay ? formatTime(t) : formatDateTime(t);
}
