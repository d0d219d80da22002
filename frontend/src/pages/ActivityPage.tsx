import { ActionIcon, Alert, Badge, Button, Code, Group, Paper, Select, Stack, Table, Text, Title } from '@mantine/core';
import { IconChevronDown, IconChevronRight, IconShieldCheck, IconShieldX } from '@tabler/icons-react';
import { Fragment, useCallback, useEffect, useRef, useState } from 'react';
import {
  activitySentence,
  listActivity,
  listDatabases,
  verifyActivity,
  type ActivityKind,
  type ApiError,
  type AuditFilter,
  type AuditRecord,
  type AuditReport,
} from '../api';
import { ErrorNotice } from '../components/ErrorNotice';
import { formatDateTime } from '../format';
import { useCall } from '../useCall';

const kinds: { value: ActivityKind | ''; label: string }[] = [
  { value: '', label: 'Everything' },
  { value: 'backups', label: 'Backups' },
  { value: 'checks', label: 'Checks, verifications and drills' },
  { value: 'restores', label: 'Restores' },
  { value: 'settings', label: 'Settings' },
  { value: 'security', label: 'Key and security' },
  { value: 'other', label: 'PgSafe itself' },
];

/** What an outcome looks like: "partial" and "denied" did not go well either. */
function outcomeBadge(outcome: string): { label: string; color: string } {
  switch (outcome) {
    case 'ok':
      return { label: 'OK', color: 'teal' };
    case 'partial':
      return { label: 'Partly', color: 'orange' };
    case 'denied':
      return { label: 'Refused', color: 'orange' };
    case 'failed':
      return { label: 'Failed', color: 'red' };
  }
  return { label: outcome, color: 'gray' };
}

/** The audit log: every action in words, filters by database, kind and outcome, the raw entry one click away, and "Verify log". */
export function ActivityPage() {
  const [filter, setFilter] = useState<AuditFilter>({ actionPrefix: '', outcome: '', database: '', kind: '', days: 0, limit: 200, offset: 0 });
  const load = useCallback(() => listActivity(filter), [filter]);
  const entries = useCall(load, 'read the activity log');
  const databases = useCall(listDatabases, 'list your databases');
  const [report, setReport] = useState<AuditReport | null>(null);
  const [verifyError, setVerifyError] = useState<ApiError | null>(null);
  const [verifying, setVerifying] = useState(false);
  const [open, setOpen] = useState<Set<number>>(new Set());
  const first = useRef(true);
  useEffect(() => {
    if (first.current) {
      first.current = false;
      return;
    }
    entries.reload();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [filter]);

  const verify = async () => {
    setVerifying(true);
    setVerifyError(null);
    try {
      setReport(await verifyActivity());
      entries.reload();
    } catch (e) {
      setVerifyError(e as ApiError);
    } finally {
      setVerifying(false);
    }
  };
  const toggle = (seq: number) =>
    setOpen((o) => {
      const n = new Set(o);
      if (n.has(seq)) n.delete(seq);
      else n.add(seq);
      return n;
    });
  const filtered = filter.database !== '' || filter.kind !== '' || filter.outcome !== '' || filter.days !== 0;
  const dbNames = (databases.state.data ?? []).map((d) => d.name);
  if (filter.database && !dbNames.includes(filter.database)) dbNames.push(filter.database);

  return (
    <Stack gap="lg">
      <Group justify="space-between">
        <Title order={1} size="h3">
          Activity
        </Title>
        <Button variant="light" leftSection={<IconShieldCheck size={16} />} onClick={verify} loading={verifying}>
          Verify log
        </Button>
      </Group>
      <Text size="sm" c="dimmed" maw={680}>
        Everything PgSafe did or was asked to do. Each entry is chained to the one before it with a key only this
        machine has, so a changed, removed or reordered entry is found by “Verify log”. Click an entry for its details.
      </Text>
      {report && <VerifyResult report={report} />}
      {verifyError && <ErrorNotice error={verifyError} />}
      <Group gap="sm" align="flex-end">
        <Select
          label="Database"
          data={[{ value: '', label: 'All databases' }, ...dbNames.map((n) => ({ value: n, label: n }))]}
          value={filter.database}
          onChange={(v) => setFilter({ ...filter, database: v ?? '' })}
          w={180}
          allowDeselect={false}
        />
        <Select
          label="Kind"
          data={kinds}
          value={filter.kind}
          onChange={(v) => setFilter({ ...filter, kind: (v ?? '') as AuditFilter['kind'] })}
          w={230}
          allowDeselect={false}
        />
        <Select
          label="Outcome"
          data={[
            { value: '', label: 'Any' },
            { value: 'ok', label: 'OK' },
            { value: 'failed', label: 'Failed or refused' },
          ]}
          value={filter.outcome}
          onChange={(v) => setFilter({ ...filter, outcome: v ?? '' })}
          w={160}
          allowDeselect={false}
        />
        <Select
          label="Period"
          data={[
            { value: '0', label: 'All time' },
            { value: '1', label: 'Last 24 hours' },
            { value: '7', label: 'Last 7 days' },
            { value: '30', label: 'Last 30 days' },
          ]}
          value={String(filter.days)}
          onChange={(v) => setFilter({ ...filter, days: Number(v ?? 0) })}
          w={140}
          allowDeselect={false}
        />
      </Group>
      {entries.state.error && <ErrorNotice error={entries.state.error} onRetry={entries.reload} />}
      <Paper withBorder radius="md">
        <Table highlightOnHover verticalSpacing="xs" data-testid="activity-table">
          <Table.Thead>
            <Table.Tr>
              <Table.Th w={36} />
              <Table.Th w={200}>When</Table.Th>
              <Table.Th>What happened</Table.Th>
              <Table.Th w={90}>Outcome</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {(entries.state.data ?? []).map((r) => (
              <Entry key={r.seq} r={r} open={open.has(r.seq)} onToggle={() => toggle(r.seq)} />
            ))}
          </Table.Tbody>
        </Table>
        {entries.state.status === 'ok' && entries.state.data.length === 0 && (
          <Text p="lg" c="dimmed" ta="center">
            Nothing recorded {filtered ? 'that matches these filters' : 'yet'}.
          </Text>
        )}
      </Paper>
    </Stack>
  );
}

function Entry({ r, open, onToggle }: { r: AuditRecord; open: boolean; onToggle: () => void }) {
  const badge = outcomeBadge(r.outcome);
  const sentence = activitySentence(r);
  return (
    <Fragment>
      <Table.Tr data-testid="activity-row" data-action={r.action} onClick={onToggle} style={{ cursor: 'pointer' }} aria-expanded={open}>
        <Table.Td>
          <ActionIcon
            variant="subtle"
            color="gray"
            size="sm"
            aria-label={open ? 'Hide the details' : 'Show the details'}
            onClick={(e) => {
              e.stopPropagation();
              onToggle();
            }}
          >
            {open ? <IconChevronDown size={14} /> : <IconChevronRight size={14} />}
          </ActionIcon>
        </Table.Td>
        <Table.Td>
          <Text size="sm" c="dimmed" style={{ whiteSpace: 'nowrap' }}>
            {formatDateTime(r.at)}
          </Text>
        </Table.Td>
        <Table.Td>
          <Text size="sm" style={{ overflowWrap: 'anywhere' }} data-testid="activity-sentence">
            {sentence}
          </Text>
        </Table.Td>
        <Table.Td>
          <Badge color={badge.color} variant="light" tt="none">
            {badge.label}
          </Badge>
        </Table.Td>
      </Table.Tr>
      {open && (
        <Table.Tr data-testid="activity-raw">
          <Table.Td />
          <Table.Td colSpan={3}>
            <RawEntry r={r} />
          </Table.Td>
        </Table.Tr>
      )}
    </Fragment>
  );
}

/** The entry as recorded: for support, and for anyone who wants the exact fields. */
function RawEntry({ r }: { r: AuditRecord }) {
  const rows: [string, string][] = [
    ['entry', String(r.seq)],
    ['recorded', new Date(r.at).toISOString()],
    ['action', r.action],
    ['outcome', r.outcome],
    ['target', r.target ?? ''],
    ['by', r.actor],
    ...Object.entries(r.fields ?? {}).sort(([a], [b]) => a.localeCompare(b)),
    ['message', r.message ?? ''],
  ];
  return (
    <Code block className="selectable" style={{ whiteSpace: 'pre-wrap', overflowWrap: 'anywhere' }}>
      {rows
        .filter(([, v]) => v !== '')
        .map(([k, v]) => `${k}: ${v}`)
        .join('\n')}
    </Code>
  );
}

function VerifyResult({ report }: { report: AuditReport }) {
  if (report.intact) {
    return (
      <Alert color="teal" variant="light" icon={<IconShieldCheck size={20} />} title="The log is intact" data-testid="verify-result">
        All {report.entries} entries are in order and unchanged (intact up to entry {report.goodTo}).
      </Alert>
    );
  }
  return (
    <Alert color="red" variant="light" icon={<IconShieldX size={20} />} title={`The log is broken at entry ${report.brokenAt}`} data-testid="verify-result">
      {report.detail}. Entries up to {report.goodTo} are intact. Someone or something changed PgSafe’s settings file outside
      PgSafe: keep a copy of it for investigation.
      {report.recordedAt
        ? ` PgSafe recorded this break as entry ${report.recordedAt} and goes on backing up; new entries follow it, and the log will always show the break.`
        : ''}
    </Alert>
  );
}
