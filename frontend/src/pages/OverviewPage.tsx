import { Anchor, Box, Button, EmptyState, Group, Loader, Paper, SimpleGrid, Stack, Text, Title } from '@mantine/core';
import { IconAlertCircle, IconAlertTriangle, IconCircleCheckFilled, IconDatabase, IconPlus } from '@tabler/icons-react';
import { useEffect, useRef, useState, type ReactNode } from 'react';
import { databaseStatus, formatVersion, type AppInfo, type ClientTools, type DatabaseStatus, type DatabaseView } from '../api';
import { DatabaseCard, FailingBanner, stateRank } from '../components/DatabaseCard';
import { applyStatus, useEngineEvents } from '../stores/jobs';
import { ImportDialog } from '../components/ImportDialog';
import { SchedulerLine } from '../components/SchedulerLine';
import { RestoreDialog, type RestoreSource } from '../components/RestoreDialog';
import { useCall } from '../useCall';
import { ErrorNotice } from '../components/ErrorNotice';
import { PathText } from '../components/PathText';
import type { Call } from '../useCall';

interface Props {
  info: Call<AppInfo>;
  tools: Call<ClientTools>;
  databases: Call<DatabaseView[]>;
  /** The master key and settings are open (the banner above says why not). */
  keyReady: boolean;
  onOpenSettings: () => void;
  onAddDatabase: () => void;
  onOpenDatabase?: (d: DatabaseView) => void;
}

/** With no databases yet: what PgSafe does, and whether this machine is ready. */
export function OverviewPage({ info, tools, databases, keyReady, onOpenSettings, onAddDatabase, onOpenDatabase }: Props) {
  const dbs = databases.state.data ?? [];
  const safety = useCall(databaseStatus, 'read how safe your databases are');
  // The states as read, then kept current by the engine's status.changed events (no reload).
  const [states, setStates] = useState<DatabaseStatus[] | null>(null);
  useEffect(() => {
    if (safety.state.data) setStates(safety.state.data);
  }, [safety.state.data]);
  useEngineEvents((ev) => setStates((list) => (list ? applyStatus(list, ev) : list)));
  // A database added, removed or renamed: read the states again.
  // eslint-disable-next-line react-hooks/exhaustive-deps
  useEffect(() => safety.reload(), [databases.state.data]);
  const stateOf = (name: string) => states?.find((s) => s.name === name);
  // A server entry's run adds its new databases on the Go side: a state of a
  // server's database this list does not have yet reads the list again (once
  // per name).
  const asked = useRef(new Set<string>());
  useEffect(() => {
    const fresh = (states ?? []).filter((s) => s.server && !dbs.some((d) => d.name === s.name) && !asked.current.has(s.name));
    if (fresh.length === 0) return;
    fresh.forEach((s) => asked.current.add(s.name));
    databases.reload();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [states, dbs]);
  // Failing first, then not yet backed up, needing attention, protected. A
  // server's databases are inside its card.
  const ordered = dbs.filter((d) => !d.serverEntry).sort((a, b) => stateRank(stateOf(a.name)) - stateRank(stateOf(b.name)));
  const databasesOf = (server: DatabaseView) => dbs.filter((d) => d.serverEntry === server.id).map((d) => ({ d, s: stateOf(d.name) }));
  // A server's failing database is said by its server entry's line.
  const failing = (states ?? []).filter((s) => s.state === 'failing' && !s.server && dbs.some((d) => d.name === s.name));
  const open = (name: string) => {
    const d = dbs.find((x) => x.name === name);
    if (d) onOpenDatabase?.(d);
  };
  const [importing, setImporting] = useState(false);
  const [restoring, setRestoring] = useState<RestoreSource | null>(null);
  return (
    <Stack gap="lg">
      <Group justify="space-between">
        <Title order={1} size="h3">
          Overview
        </Title>
        <Group gap="xs">
          {keyReady && (
            <Button variant="default" onClick={() => setImporting(true)}>
              Restore from a file…
            </Button>
          )}
          {dbs.length > 0 && (
            <Button leftSection={<IconPlus size={16} />} onClick={onAddDatabase} variant="light">
              Add database
            </Button>
          )}
        </Group>
      </Group>
      {keyReady && dbs.length > 0 && <SchedulerLine />}
      <ImportDialog
        opened={importing}
        onClose={() => setImporting(false)}
        onRestore={(b) => {
          setImporting(false);
          setRestoring({ backupId: b.id, label: b.database || 'the backup', started: b.started, storedSize: b.storedSize, file: b.file });
        }}
      />
      <RestoreDialog source={restoring} onClose={() => setRestoring(null)} />
      {keyReady && databases.state.error && <ErrorNotice error={databases.state.error} onRetry={databases.reload} />}
      {failing.length > 0 && <FailingBanner failing={failing} onOpen={(name) => open(name)} />}
      {dbs.length > 0 ? (
        <SimpleGrid cols={{ base: 1, sm: 2 }} spacing="md">
          {ordered.map((d) => (
            <DatabaseCard
              key={d.id}
              d={d}
              s={stateOf(d.name)}
              onOpen={() => onOpenDatabase?.(d)}
              onOpenSettings={onOpenSettings}
              databases={d.allDatabases ? databasesOf(d) : undefined}
              onOpenDatabase={onOpenDatabase}
            />
          ))}
        </SimpleGrid>
      ) : (
      <Paper withBorder radius="md" py={32} px="xl">
        <EmptyState size="md" variant="light" maw={560} mx="auto">
          <EmptyState.Indicator>
            <IconDatabase size={30} stroke={1.5} />
          </EmptyState.Indicator>
          <EmptyState.Title order={2}>No databases yet</EmptyState.Title>
          <EmptyState.Description maw={600} style={{ textWrap: 'balance' }}>
            PgSafe backs up your PostgreSQL databases on a schedule, encrypted.
            <br />
            Every backup is checked, so restoring on a bad day is one calm click.
          </EmptyState.Description>
          <Button mt="md" leftSection={<IconPlus size={16} />} onClick={onAddDatabase} disabled={!keyReady}>
            Add database
          </Button>
        </EmptyState>
      </Paper>
      )}
      <Paper withBorder radius="md" p="lg" component="section" aria-labelledby="machine-title">
        <Group justify="space-between" mb="sm">
          <Title order={2} size="h5" id="machine-title">
            This machine
          </Title>
          <Anchor component="button" type="button" size="sm" onClick={onOpenSettings}>
            Details in Settings
          </Anchor>
        </Group>
        <Stack gap="sm">
          <ToolsLine tools={tools} />
          <DataLine info={info} />
        </Stack>
      </Paper>
    </Stack>
  );
}

type Tone = 'ok' | 'warn' | 'error' | 'busy';

function Line({ tone, children, testId }: { tone: Tone; children: ReactNode; testId?: string }) {
  const icon =
    tone === 'busy' ? (
      <Loader size={14} type="oval" />
    ) : tone === 'ok' ? (
      <IconCircleCheckFilled size={18} />
    ) : tone === 'warn' ? (
      <IconAlertTriangle size={18} />
    ) : (
      <IconAlertCircle size={18} />
    );
  const color = tone === 'ok' ? 'teal.6' : tone === 'warn' ? 'yellow.6' : tone === 'error' ? 'red.6' : 'gray';
  return (
    <Group gap="sm" wrap="nowrap" align="flex-start" data-testid={testId} data-tone={tone}>
      <Box c={color} mt={2} style={{ display: 'flex', flexShrink: 0 }} aria-hidden>
        {icon}
      </Box>
      <div style={{ minWidth: 0, flex: 1 }}>{children}</div>
    </Group>
  );
}

function ToolsLine({ tools: { state } }: { tools: Call<ClientTools> }) {
  if (state.status === 'error') {
    return (
      <Line tone="error" testId="overview-tools">
        <Text size="sm">{state.error.title}.</Text>
        <Text size="sm" c="dimmed">
          {state.error.message}
        </Text>
      </Line>
    );
  }
  if (!state.data) {
    return (
      <Line tone="busy" testId="overview-tools">
        <Text size="sm">Looking for pg_dump…</Text>
      </Line>
    );
  }
  const { installs } = state.data;
  if (installs.length === 0) {
    return (
      <Line tone="warn" testId="overview-tools">
        <Text size="sm">No pg_dump found. PgSafe needs the PostgreSQL client tools to make backups.</Text>
        <Text size="sm" c="dimmed">
          Settings shows how to install them.
        </Text>
      </Line>
    );
  }
  const newest = installs[0];
  return (
    <Line tone="ok" testId="overview-tools">
      <Text size="sm">
        pg_dump {formatVersion(newest.version)} found: ready for servers running PostgreSQL {newest.version.major} or older.
      </Text>
    </Line>
  );
}

function DataLine({ info: { state } }: { info: Call<AppInfo> }) {
  if (state.status === 'error') {
    return (
      <Line tone="error">
        <Text size="sm">{state.error.title}.</Text>
        <Text size="sm" c="dimmed">
          {state.error.message}
        </Text>
      </Line>
    );
  }
  if (!state.data) return null;
  if (!state.data.settingsDir) {
    return (
      <Line tone="warn">
        <Text size="sm">PgSafe could not work out where to keep its settings. Set PGSAFE_HOME and start it again.</Text>
      </Line>
    );
  }
  return (
    <Line tone="ok">
      <Group gap={6} wrap="nowrap" miw={0}>
        <Text size="sm" style={{ flexShrink: 0 }}>
          Settings are kept in
        </Text>
        <PathText path={state.data.settingsDir} label="settings folder" />
      </Group>
    </Line>
  );
}
