import { ActionIcon, Anchor, Badge, Code, Group, Menu, Table, Text, Tooltip } from '@mantine/core';
import { IconDots, IconLock } from '@tabler/icons-react';
import { Fragment, useState } from 'react';
import { formatAge, formatBytes, formatDuration, isZeroTime, type BackupRow } from '../api';
import { formatDateTime } from '../format';

const statusColor: Record<string, string> = { succeeded: 'green', failed: 'red', cancelled: 'gray', running: 'blue', pruned: 'gray' };

/** A status in words. */
const statusWords: Record<string, string> = { pruned: 'removed by retention' };

/** Who a failure is blamed on, as the start of its sentence. */
const blameWords: Record<string, string> = { database: 'The database', pg_dump: 'pg_dump', storage: 'The storage' };

/** Under a failed (or partly written) backup: why, in words, and the technical detail one click away. */
function ReasonRow({ b, cols }: { b: BackupRow; cols: number }) {
  const [open, setOpen] = useState(false);
  const failed = b.status === 'failed';
  // "Storage USB drive: the folder … does not exist" blamed on the storage reads "The storage USB drive failed: the folder …".
  const named = failed && b.blame === 'storage' ? /^Storage (.+?): (.+)$/s.exec(b.reason ?? '') : null;
  return (
    <Table.Tr data-testid="backup-reason">
      <Table.Td colSpan={cols} pt={0}>
        <Text size="sm" c={failed ? 'red.7' : 'yellow.8'} className="selectable">
          {named ? `The storage ${named[1]} failed: ${named[2]}` : <>{failed && b.blame ? `${blameWords[b.blame] ?? b.blame} failed: ` : ''}{b.reason}</>}{' '}
          {b.error && b.error !== b.reason && (
            <Anchor component="button" type="button" size="sm" onClick={() => setOpen((o) => !o)} aria-expanded={open}>
              {open ? 'Hide details' : 'Details'}
            </Anchor>
          )}
        </Text>
        {open && (
          <Code block mt={4} className="selectable" data-testid="backup-error-detail" style={{ whiteSpace: 'pre-wrap', wordBreak: 'break-word' }}>
            {b.error}
          </Code>
        )}
      </Table.Td>
    </Table.Tr>
  );
}

/** A kept copy's reason, short, beside its badge: "kept until 2027-01-05: the storage's lock" → "locked to Jan 5" (the year when not this one). */
export function keptShort(kept: string, now = new Date()): string {
  const until = /^kept until (\d{4})-(\d{2})-(\d{2}): the storage's lock$/.exec(kept);
  if (!until) return 'deletes refused';
  const d = new Date(Number(until[1]), Number(until[2]) - 1, Number(until[3]));
  const opts: Intl.DateTimeFormatOptions = { month: 'short', day: 'numeric', ...(d.getFullYear() !== now.getFullYear() ? { year: 'numeric' } : {}) };
  return `locked to ${d.toLocaleDateString(undefined, opts)}`;
}

/** What a status badge says on hover when the backup has no error to show. */
const statusHint: Record<string, string> = { pruned: 'Retention deleted this backup from every storage: it can no longer be restored' };

interface RowActions {
  busy?: boolean;
  onVerify?: (b: BackupRow) => void;
  onDrill?: (b: BackupRow) => void;
  onRestore?: (b: BackupRow) => void;
}

export function BackupsTable({ rows, busy, onVerify, onDrill, onRestore }: { rows: BackupRow[] } & RowActions) {
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
            <Table.Th miw={120}>Status</Table.Th>
            <Table.Th>Size</Table.Th>
            <Table.Th>Took</Table.Th>
            <Table.Th>Storages</Table.Th>
            <Table.Th>Verified</Table.Th>
            {onRestore && <Table.Th aria-label="Actions" />}
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {rows.map((b) => (
            <Fragment key={b.id}>
            <Table.Tr data-testid="backup-row" data-status={b.status} style={b.reason ? { borderBottom: 'none' } : undefined}>
              <Table.Td>
                <Tooltip label={`Backup ${b.id}`} openDelay={400}>
                  <Text size="sm">{formatDateTime(b.started)}</Text>
                </Tooltip>
              </Table.Td>
              <Table.Td>
                <Tooltip label={statusHint[b.status]} disabled={!statusHint[b.status]} multiline w={360}>
                  <Badge color={b.error && b.status === 'succeeded' ? 'yellow' : statusColor[b.status] ?? 'gray'} variant="light" tt="none">
                    {statusWords[b.status] ?? b.status}
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
                  {b.status === 'failed' && (b.copies ?? []).length === 0 && (
                    <Text size="sm" c="dimmed">
                      nothing written
                    </Text>
                  )}
                  {(b.copies ?? []).map((c) => (
                    <Tooltip key={c.storage} label={c.error || (c.kept ? `Retention would have deleted it — ${c.kept}` : c.status)} multiline w={320}>
                      <Group gap={4} wrap="nowrap" data-testid="backup-copy" data-kept={c.kept ? 'true' : undefined} data-kept-reason={c.kept || undefined}>
                        <Badge size="sm" variant="default" tt="none" c={c.status === 'failed' ? 'red' : undefined}>
                          {c.kept ? <IconLock size={11} style={{ verticalAlign: -1 }} aria-label="kept" /> : c.status === 'written' ? '✓' : c.status === 'failed' ? '✗' : c.status === 'deleted' ? '⌫' : '…'}{' '}
                          {c.storage}
                        </Badge>
                        {c.kept && (
                          <Text size="xs" c="dimmed" style={{ whiteSpace: 'nowrap' }}>
                            {keptShort(c.kept)}
                          </Text>
                        )}
                      </Group>
                    </Tooltip>
                  ))}
                </Group>
              </Table.Td>
              <Table.Td>
                <VerifiedCell b={b} />
              </Table.Td>
              {onRestore && (
                <Table.Td>
                  {b.status === 'succeeded' && (
                    <Menu position="bottom-end" withinPortal>
                      <Menu.Target>
                        <ActionIcon variant="subtle" color="gray" aria-label={`Actions for the backup of ${formatDateTime(b.started)}`} disabled={busy}>
                          <IconDots size={16} />
                        </ActionIcon>
                      </Menu.Target>
                      <Menu.Dropdown>
                        <Menu.Item onClick={() => onVerify?.(b)}>Verify</Menu.Item>
                        <Menu.Item onClick={() => onDrill?.(b)}>Restore drill</Menu.Item>
                        <Menu.Divider />
                        <Menu.Item onClick={() => onRestore(b)}>Restore…</Menu.Item>
                      </Menu.Dropdown>
                    </Menu>
                  )}
                </Table.Td>
              )}
            </Table.Tr>
            {b.reason && <ReasonRow b={b} cols={onRestore ? 7 : 6} />}
            </Fragment>
          ))}
        </Table.Tbody>
      </Table>
    </Table.ScrollContainer>
  );
}

function VerifiedCell({ b }: { b: BackupRow }) {
  const c = b.checked;
  if (!c) return <Text size="sm" c="dimmed">—</Text>;
  const what = c.kind === 'drill' ? 'drill' : 'verified';
  return (
    <Tooltip label={c.problem || (c.summary ? `${c.summary} — ${formatDateTime(c.when)}` : `${c.kind === 'drill' ? 'Restore drill passed' : 'Verified'} ${formatDateTime(c.when)}`)} multiline w={360}>
      <Badge size="sm" variant="light" color={c.ok ? 'green' : 'red'} tt="none" data-testid="verified-badge">
        {c.ok ? '✓' : '✗'} {what}
      </Badge>
    </Tooltip>
  );
}

/** "last verified: 3 days ago ✓". */
export function LastCheckBadge({ c }: { c: { when: string; ok: boolean; kind: string; problem?: string } }) {
  if (isZeroTime(c.when)) {
    return (
      <Badge variant="light" color="gray" tt="none" data-testid="last-check">
        never verified
      </Badge>
    );
  }
  return (
    <Tooltip label={c.problem || (c.kind === 'drill' ? 'A restore drill passed' : 'The backup was read back and authenticated')} multiline w={360}>
      <Badge variant="light" color={c.ok ? 'green' : 'red'} tt="none" data-testid="last-check">
        last verified: {formatAge(c.when)} {c.ok ? '✓' : '✗'}
      </Badge>
    </Tooltip>
  );
}

