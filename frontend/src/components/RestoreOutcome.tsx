import { ActionIcon, Alert, Anchor, Code, Collapse, CopyButton, Group, List, Progress, Stack, Table, Text, TextInput, ThemeIcon, Tooltip } from '@mantine/core';
import { useDisclosure } from '@mantine/hooks';
import { IconAlertTriangle, IconCheck, IconCopy, IconInfoCircle } from '@tabler/icons-react';
import type { ReactNode } from 'react';
import { formatBytes, formatDuration, type RestoreFinished, type RestoreProgress, type RowCheck } from '../api';

const phaseWords: Record<string, string> = {
  checking: 'Checking the target server…',
  verifying: 'Reading and checking the whole backup before anything is replaced…',
  decrypting: 'Decrypting to a private temporary folder…',
  restoring: 'Restoring',
  counting: 'Counting the restored rows…',
  owners: 'Giving the restored objects their owners and grants…',
  done: 'Done',
};

/** pg_restore's progress line in words: "Loading the rows of public.orders". */
export function itemWords(item: string): string {
  let m = /^processing data for table "(.+)"$/.exec(item);
  if (m) return `Loading the rows of ${m[1]}`;
  m = /^creating ([A-Z][A-Z ]*?) "(.+)"$/.exec(item);
  if (m) return `Creating ${m[1].toLowerCase()} ${m[2]}`;
  m = /^launching item \d+ TABLE DATA (\S+) (.+)$/.exec(item);
  if (m) return `Loading the rows of ${m[1]}.${m[2]}`;
  m = /^launching item \d+ ([A-Z][A-Z ]*?) (\S+) (.+)$/.exec(item);
  if (m) return `Creating ${m[1].toLowerCase()} ${m[3]}`;
  if (item.startsWith('restoring large object')) return 'Restoring large objects';
  return item;
}

/** A running restore: the phase in words, the bytes of the backup read, what pg_restore is at. */
export function RestoreProgressView({ progress, parallel }: { progress: RestoreProgress; parallel: boolean }) {
  const read = progress.total > 0 ? Math.min(100, Math.round((progress.readBytes / progress.total) * 100)) : 0;
  // A parallel restore has read (and checked) the whole backup before pg_restore starts.
  const fromCopy = parallel && (progress.phase === 'restoring' || progress.phase === 'counting');
  return (
    <>
      <Text fw={600} size="sm">
        {phaseWords[progress.phase] ?? progress.phase}
        {progress.phase === 'restoring' && parallel ? ' from the decrypted copy…' : progress.phase === 'restoring' ? '…' : ''}
      </Text>
      <Progress value={read} size="lg" animated={progress.phase !== 'done'} aria-label="Backup read" />
      <Text size="sm" c="dimmed" data-testid="restore-read">
        {fromCopy ? `All ${formatBytes(progress.total)} of the backup read and checked` : `${formatBytes(progress.readBytes)} of ${formatBytes(progress.total)} read`} · no time limit
      </Text>
      {progress.item && (
        <Text size="sm" c="dimmed" truncate="end" data-testid="restore-item">
          {itemWords(progress.item)}
        </Text>
      )}
    </>
  );
}

/** "1 table" / "23 tables". */
const tables = (n: number) => (n === 1 ? '1 table' : `${n} tables`);

/** The restored rows against the backup's recorded counts. */
export function RowComparison({ rows }: { rows: RowCheck }) {
  const diffs = rows.diffs ?? [];
  const uncounted = rows.uncounted ? ` (${tables(rows.uncounted)} had no count recorded)` : '';
  let body: ReactNode;
  if (!rows.recorded) {
    body = (
      <Line icon="info">
        The backup recorded no row counts (row counting was off for this database), so the restored rows could not be compared.
      </Line>
    );
  } else if (rows.error) {
    body = <Line icon="warning">The restored rows could not be counted: {rows.error}</Line>;
  } else if (diffs.length === 0) {
    body = (
      <Line icon="ok">
        {rows.tables === 1 ? 'The table has' : `All ${rows.tables} tables have`} the rows recorded at backup time ✓{uncounted}
      </Line>
    );
  } else {
    body = (
      <Stack gap={4}>
        <Line icon="warning">
          {diffs.length} of {tables(rows.tables)} differ from the rows recorded at backup time{uncounted}:
        </Line>
        <Table withTableBorder striped="odd" fz="sm" data-testid="row-diffs">
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Table</Table.Th>
              <Table.Th ta="right">At backup</Table.Th>
              <Table.Th ta="right">Restored</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {diffs.slice(0, 20).map((d) => (
              <Table.Tr key={d.table}>
                <Table.Td className="selectable">{d.table}</Table.Td>
                <Table.Td ta="right">{d.want.toLocaleString()}</Table.Td>
                <Table.Td ta="right">{d.got < 0 ? 'missing' : d.got.toLocaleString()}</Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
        {diffs.length > 20 && <Text size="xs" c="dimmed">and {diffs.length - 20} more</Text>}
      </Stack>
    );
  }
  return <div data-testid="restore-rows">{body}</div>;
}

function Line({ icon, children }: { icon: 'ok' | 'warning' | 'info'; children: ReactNode }) {
  const color = icon === 'ok' ? 'green' : icon === 'warning' ? 'yellow' : 'gray';
  const Icon = icon === 'ok' ? IconCheck : icon === 'warning' ? IconAlertTriangle : IconInfoCircle;
  return (
    <Group gap="xs" wrap="nowrap" align="flex-start">
      <ThemeIcon size={20} radius="xl" variant="light" color={color} style={{ flexShrink: 0 }}>
        <Icon size={13} />
      </ThemeIcon>
      <Text size="sm">{children}</Text>
    </Group>
  );
}

/** How to reach the restored database, to copy (the password is never part of it). */
function ConnectionString({ value }: { value: string }) {
  return (
    <TextInput
      label="Connect to it"
      description="The restoring user’s password is not part of it."
      value={value}
      readOnly
      spellCheck={false}
      data-testid="restore-connection"
      className="selectable"
      rightSection={
        <CopyButton value={value}>
          {({ copied, copy }) => (
            <Tooltip label={copied ? 'Copied' : 'Copy'} withArrow>
              <ActionIcon variant="subtle" color={copied ? 'green' : 'gray'} onClick={copy} aria-label="Copy the connection string">
                {copied ? <IconCheck size={16} /> : <IconCopy size={16} />}
              </ActionIcon>
            </Tooltip>
          )}
        </CopyButton>
      }
    />
  );
}

/** A toggle revealing raw lines ("the technical detail one click away"). */
function Detail({ label, text }: { label: string; text: string }) {
  const [open, { toggle }] = useDisclosure(false);
  return (
    <>
      <Anchor component="button" type="button" size="xs" onClick={toggle} aria-expanded={open} style={{ alignSelf: 'flex-start' }}>
        {open ? `Hide ${label}` : `Show ${label}`}
      </Anchor>
      <Collapse expanded={open} keepMounted={false}>
        <Code block className="selectable" style={{ maxHeight: 180, overflow: 'auto', whiteSpace: 'pre-wrap' }}>
          {text}
        </Code>
      </Collapse>
    </>
  );
}

/** The end of a restore: what was restored, pg_restore's complaints in words, the row comparison and how to connect. */
export function RestoreEnd({ finished }: { finished: RestoreFinished }) {
  if (!finished.ok) {
    return (
      <Alert color={finished.cancelled ? 'gray' : 'red'} variant="light" title={finished.cancelled ? 'Restore cancelled' : 'The restore failed'} role="alert">
        <Stack gap="xs">
          <Text size="sm" className="selectable">
            {finished.problem || finished.error}
          </Text>
          {finished.error && finished.problem && finished.problem !== finished.error && <Detail label="details" text={finished.error} />}
        </Stack>
      </Alert>
    );
  }
  const notes = finished.notes ?? [];
  const warned = notes.some((n) => n.severity === 'warning') || (finished.rows?.diffs?.length ?? 0) > 0 || !!finished.rows?.error;
  const raw = [...(finished.warnings ?? []), ...notes.filter((n) => n.code === 'retried').flatMap((n) => n.lines ?? [])];
  return (
    <Stack gap="sm">
      <Alert color={warned ? 'yellow' : 'green'} variant="light" title={`Restored into ${finished.database} in ${formatDuration(finished.durationSeconds)}`}>
        <Stack gap={6}>
          {finished.rows && <RowComparison rows={finished.rows} />}
          {finished.viaTempFile && <Text size="sm">The temporary decrypted copy was deleted.</Text>}
          {(finished.rolesCreated ?? []).length > 0 && (
            <Text size="sm" data-testid="restore-roles-created">
              Created on the target, without passwords and unable to log in: {(finished.rolesCreated ?? []).join(', ')}.
            </Text>
          )}
        </Stack>
      </Alert>
      {notes.length > 0 && (
        <Stack gap={4} data-testid="restore-notes">
          <Text size="sm" fw={600}>
            {finished.ignoredErrors > 0 ? `pg_restore went past ${finished.ignoredErrors === 1 ? 'one error' : `${finished.ignoredErrors} errors`}:` : 'Worth knowing:'}
          </Text>
          <List size="sm" spacing={4} className="selectable">
            {notes.map((n) => (
              <List.Item key={n.code + n.message} c={n.severity === 'warning' ? undefined : 'dimmed'}>
                {n.message}
              </List.Item>
            ))}
          </List>
          {raw.length > 0 && <Detail label={`pg_restore’s messages (${raw.length} lines)`} text={raw.join('\n')} />}
        </Stack>
      )}
      {finished.connection && <ConnectionString value={finished.connection} />}
    </Stack>
  );
}
