import { Alert, Badge, Button, Group, Paper, Skeleton, Stack, Text, ThemeIcon, Title, Tooltip } from '@mantine/core';
import { IconAlertTriangle, IconCircleCheckFilled, IconRefresh, IconTerminal2 } from '@tabler/icons-react';
import { formatVersion, type ClientTools, type ToolInstall } from '../api';
import type { Call } from '../useCall';
import { ErrorNotice } from './ErrorNotice';
import { PathText } from './PathText';
import { RichText } from './RichText';

/** Settings → PostgreSQL client tools: what pg_dump/pg_restore this machine has. */
export function ClientToolsPanel({ tools }: { tools: Call<ClientTools> }) {
  const { state, reload } = tools;
  const busy = state.status === 'loading';
  return (
    <Paper withBorder p="lg" radius="md" component="section" aria-labelledby="client-tools-title">
      <Group justify="space-between" align="flex-start" wrap="nowrap" mb="md">
        <div>
          <Title order={2} size="h4" id="client-tools-title">
            PostgreSQL client tools
          </Title>
          <Text size="sm" c="dimmed" mt={4} maw={520}>
            PgSafe runs pg_dump to back up and pg_restore to restore. A pg_dump backs up servers of its own
            major version and older.
          </Text>
        </div>
        <Stack gap={4} align="flex-end">
          <Button
            variant="default"
            size="xs"
            leftSection={<IconRefresh size={14} />}
            onClick={reload}
            loading={busy}
            loaderProps={{ type: 'dots' }}
          >
            Rescan
          </Button>
          {state.checkedAt && (
            <Text size="xs" c="dimmed" data-testid="tools-checked-at" style={{ whiteSpace: 'nowrap' }}>
              Checked {state.checkedAt.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit' })}
            </Text>
          )}
        </Stack>
      </Group>
      <ToolsBody tools={tools} />
    </Paper>
  );
}

function ToolsBody({ tools: { state, reload } }: { tools: Call<ClientTools> }) {
  if (state.status === 'error') {
    return <ErrorNotice error={state.error} onRetry={reload} />;
  }
  if (!state.data) {
    return (
      <Stack gap="sm" aria-busy="true" aria-label="Looking for pg_dump on this machine">
        <Text size="sm" c="dimmed">
          Looking for pg_dump on this machine…
        </Text>
        <Skeleton h={64} radius="md" />
      </Stack>
    );
  }
  const { installs, newest, advice } = state.data;
  if (installs.length === 0) {
    return (
      <Alert
        variant="light"
        color="yellow"
        radius="md"
        icon={<IconAlertTriangle size={20} stroke={1.75} />}
        title="No pg_dump found on this machine"
        data-testid="tools-none"
      >
        <Stack gap={6}>
          <Text size="sm">PgSafe needs the PostgreSQL client tools before it can back anything up.</Text>
          {advice && (
            <Text size="sm" data-testid="tools-advice">
              <RichText text={advice} />
            </Text>
          )}
          <Text size="sm" c="dimmed">
            Installed them already, or somewhere unusual? Press Rescan.
          </Text>
        </Stack>
      </Alert>
    );
  }
  const newestInstall = installs[0];
  const canRestore = installs.some((i) => i.pgRestore);
  return (
    <Stack gap="sm">
      <Group gap="xs" wrap="nowrap" data-testid="tools-summary">
        <IconCircleCheckFilled size={18} color="var(--mantine-color-teal-6)" style={{ flexShrink: 0 }} aria-hidden />
        <Text size="sm">
          Ready to back up servers running PostgreSQL {newest} or older
          {installs.length > 1 ? ` — ${installs.length} installs found.` : '.'}
        </Text>
      </Group>
      {!canRestore && (
        <Alert variant="light" color="yellow" radius="md" icon={<IconAlertTriangle size={18} />} title="No pg_restore found">
          Backups will work, but restoring needs pg_restore. It usually comes in the same package as pg_dump.
        </Alert>
      )}
      <Stack gap="xs" component="ul" p={0} m={0} style={{ listStyle: 'none' }} aria-label="Installs found">
        {installs.map((ins) => (
          <InstallRow key={`${ins.dir}|${formatVersion(ins.version)}`} ins={ins} newest={ins === newestInstall} />
        ))}
      </Stack>
    </Stack>
  );
}

function InstallRow({ ins, newest }: { ins: ToolInstall; newest: boolean }) {
  const version = formatVersion(ins.version);
  return (
    <Paper component="li" withBorder radius="md" px="md" py="sm" bg="var(--mantine-color-body)" data-testid="tool-install">
      <Group justify="space-between" wrap="nowrap" gap="md">
        <Group gap="sm" wrap="nowrap" miw={0} style={{ flex: 1 }}>
          <ThemeIcon variant="light" size={36} radius="md">
            <IconTerminal2 size={20} stroke={1.6} />
          </ThemeIcon>
          <Stack gap={2} miw={0} style={{ flex: 1 }}>
            <Group gap={6} wrap="nowrap">
              <Text fw={600} size="sm">
                PostgreSQL {ins.version.major}
              </Text>
              <Badge variant="light" size="sm" radius="sm" data-testid="tool-version" tt="none">
                {version}
              </Badge>
              {newest && (
                <Badge variant="light" color="teal" size="sm" radius="sm" tt="none">
                  Newest
                </Badge>
              )}
            </Group>
            <PathText path={ins.dir} label={`folder of PostgreSQL ${version} tools`} c="dimmed" size="xs" testId="tool-dir" />
          </Stack>
        </Group>
        <Group gap={6} wrap="nowrap">
          <Program name="pg_dump" path={ins.pgDump} need="Backups need pg_dump." />
          <Program name="pg_restore" path={ins.pgRestore} need="Restores need pg_restore from this install." />
        </Group>
      </Group>
    </Paper>
  );
}

function Program({ name, path, need }: { name: string; path?: string; need: string }) {
  const found = !!path;
  return (
    <Tooltip label={found ? path : `Not found. ${need}`} withArrow openDelay={200} multiline maw={320}>
      <Badge
        variant={found ? 'default' : 'outline'}
        color={found ? undefined : 'yellow'}
        radius="sm"
        tt="none"
        fw={500}
        leftSection={found ? <IconCircleCheckFilled size={12} color="var(--mantine-color-teal-6)" /> : undefined}
        data-testid={`program-${name}`}
        data-found={found}
        aria-label={found ? `${name} found at ${path}` : `${name} not found`}
      >
        {found ? name : `no ${name}`}
      </Badge>
    </Tooltip>
  );
}
