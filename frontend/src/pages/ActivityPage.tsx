import { Alert, Badge, Button, Group, Paper, Select, Stack, Table, Text, TextInput, Title } from '@mantine/core';
import { IconShieldCheck, IconShieldX } from '@tabler/icons-react';
import { useCallback, useState } from 'react';
import { listActivity, verifyActivity, type ApiError, type AuditFilter, type AuditReport } from '../api';
import { ErrorNotice } from '../components/ErrorNotice';
import { useCall } from '../useCall';

const outcomeColor: Record<string, string> = { ok: 'teal', failed: 'red', denied: 'orange' };

/** The audit log: every action, with filters, and "Verify log". */
export function ActivityPage() {
  const [filter, setFilter] = useState<AuditFilter>({ actionPrefix: '', outcome: '', days: 0, limit: 200, offset: 0 });
  const load = useCallback(() => listActivity(filter), [filter]);
  const entries = useCall(load, 'read the activity log');
  const [report, setReport] = useState<AuditReport | null>(null);
  const [verifyError, setVerifyError] = useState<ApiError | null>(null);
  const [verifying, setVerifying] = useState(false);

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
        machine has, so a changed, removed or reordered entry is found by “Verify log”.
      </Text>
      {report && <VerifyResult report={report} />}
      {verifyError && <ErrorNotice error={verifyError} />}
      <Group gap="sm" align="flex-end">
        <TextInput
          label="Action starts with"
          placeholder="backup."
          value={filter.actionPrefix}
          onChange={(e) => setFilter({ ...filter, actionPrefix: e.currentTarget.value })}
          w={200}
        />
        <Select
          label="Outcome"
          data={[
            { value: '', label: 'Any' },
            { value: 'ok', label: 'OK' },
            { value: 'failed', label: 'Failed' },
            { value: 'denied', label: 'Denied' },
          ]}
          value={filter.outcome}
          onChange={(v) => setFilter({ ...filter, outcome: v ?? '' })}
          w={140}
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
          w={160}
          allowDeselect={false}
        />
      </Group>
      {entries.state.error && <ErrorNotice error={entries.state.error} onRetry={entries.reload} />}
      <Paper withBorder radius="md">
        <Table striped highlightOnHover verticalSpacing="xs" data-testid="activity-table">
          <Table.Thead>
            <Table.Tr>
              <Table.Th w={60}>#</Table.Th>
              <Table.Th w={170}>When</Table.Th>
              <Table.Th>What</Table.Th>
              <Table.Th>On</Table.Th>
              <Table.Th w={90}>Outcome</Table.Th>
              <Table.Th>Who</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {(entries.state.data ?? []).map((r) => (
              <Table.Tr key={r.seq} data-testid="activity-row" data-action={r.action}>
                <Table.Td>{r.seq}</Table.Td>
                <Table.Td>{new Date(r.at).toLocaleString()}</Table.Td>
                <Table.Td>
                  <Text size="sm" fw={500}>
                    {r.action}
                  </Text>
                  {(r.message || r.fields) && (
                    <Text size="xs" c="dimmed" className="selectable">
                      {[r.message, ...Object.entries(r.fields ?? {}).map(([k, v]) => `${k}: ${v}`)].filter(Boolean).join(' · ')}
                    </Text>
                  )}
                </Table.Td>
                <Table.Td className="selectable">{r.target}</Table.Td>
                <Table.Td>
                  <Badge color={outcomeColor[r.outcome] ?? 'gray'} variant="light">
                    {r.outcome}
                  </Badge>
                </Table.Td>
                <Table.Td>{r.actor}</Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
        {entries.state.status === 'ok' && entries.state.data.length === 0 && (
          <Text p="lg" c="dimmed" ta="center">
            Nothing recorded {filter.actionPrefix || filter.outcome || filter.days ? 'that matches these filters' : 'yet'}.
          </Text>
        )}
      </Paper>
    </Stack>
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
