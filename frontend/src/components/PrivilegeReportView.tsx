import { Accordion, Badge, Code, Group, List, Stack, Text } from '@mantine/core';
import type { PrivilegeReport, Verdict } from '../api';

export const verdictLabel: Record<Verdict, { label: string; color: string; explain: string }> = {
  read_only: { label: 'Read-only ✓', color: 'teal', explain: 'This role can read everything a backup needs and cannot change any data.' },
  read_only_with_warnings: {
    label: 'Read-only, with warnings',
    color: 'yellow',
    explain: 'This role cannot change stored data, but see the notes below before relying on it.',
  },
  write_access: {
    label: 'Has write access ✗',
    color: 'red',
    explain:
      'This role can change data. PgSafe only needs to read: a role that can write is a risk if its password leaks. ' +
      'Rather than changing this role (the application, or the server’s only superuser, may rely on it), let PgSafe’s guided setup ' +
      'create a dedicated read-only role: “Create role and use it”.',
  },
};

const severityBadge = {
  write: { label: 'can write', color: 'red' },
  warning: { label: 'warning', color: 'yellow' },
  info: { label: 'note', color: 'gray' },
} as const;

function FindingItem({ f, value }: { f: PrivilegeReport['findings'][number]; value: string }) {
  const badge = severityBadge[f.severity as keyof typeof severityBadge] ?? severityBadge.warning;
  const dedicated = f.code === 'superuser';
  return (
    <Accordion.Item value={value} data-testid="finding" data-code={f.code} data-severity={f.severity}>
      <Accordion.Control>
        <Group gap="xs" wrap="nowrap">
          <Badge color={badge.color} variant="dot" size="sm" style={{ flexShrink: 0 }}>
            {badge.label}
          </Badge>
          <Text size="sm" fw={500} style={{ overflowWrap: 'anywhere' }}>
            {f.object}
          </Text>
        </Group>
      </Accordion.Control>
      <Accordion.Panel>
        <Text size="sm" mb="xs">
          {f.detail}
        </Text>
        {f.fix_sql && (
          <>
            <Text size="xs" c="dimmed">
              {dedicated
                ? 'The dedicated read-only role PgSafe’s guided setup creates (“Create role and use it”), as SQL:'
                : f.severity === 'info'
                  ? 'Optional SQL, if an administrator wants it:'
                  : 'SQL an administrator can run to fix it:'}
            </Text>
            <Code block className="selectable">
              {f.fix_sql}
            </Code>
          </>
        )}
      </Accordion.Panel>
    </Accordion.Item>
  );
}

/** The read-only audit, in words for someone who is not a DBA; fix SQL one click away. */
export function PrivilegeReportView({ report }: { report: PrivilegeReport }) {
  const v = verdictLabel[report.verdict];
  const shown = report.findings.filter((f) => f.severity !== 'info');
  const notes = report.findings.filter((f) => f.severity === 'info');
  return (
    <Stack gap="sm" data-testid="privilege-report">
      <Group gap="sm">
        <Badge size="lg" color={v.color} variant="light" data-testid="verdict" data-verdict={report.verdict}>
          {v.label}
        </Badge>
      </Group>
      <Text size="sm">{v.explain}</Text>
      {shown.length > 0 && (
        <Accordion variant="separated" radius="md" chevronPosition="left">
          {shown.map((f, i) => (
            <FindingItem key={i} f={f} value={String(i)} />
          ))}
        </Accordion>
      )}
      {notes.length > 0 && (
        <Accordion variant="contained" radius="md" chevronPosition="left" data-testid="privilege-notes">
          <Accordion.Item value="notes">
            <Accordion.Control>
              <Text size="sm" c="dimmed">
                {notes.length === 1 ? '1 note' : `${notes.length} notes`}: worth knowing, nothing to do
              </Text>
            </Accordion.Control>
            <Accordion.Panel>
              <Accordion variant="default" chevronPosition="left">
                {notes.map((f, i) => (
                  <FindingItem key={i} f={f} value={`note-${i}`} />
                ))}
              </Accordion>
            </Accordion.Panel>
          </Accordion.Item>
        </Accordion>
      )}
      {report.missing_read.length > 0 && (
        <Stack gap={4}>
          <Text size="sm" fw={500} c="orange">
            A backup would fail on these: the role cannot read them.
          </Text>
          <List size="sm">
            {report.missing_read.map((m, i) => (
              <List.Item key={i}>
                {m.object} ({m.privilege}) — <Code>{m.fix_sql}</Code>
              </List.Item>
            ))}
          </List>
        </Stack>
      )}
    </Stack>
  );
}
