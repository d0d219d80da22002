// The database page's connection section (edit, re-check, rename, row
// counts, remove) and the warning a role that can change data earns.
import { Alert, Badge, Button, CloseButton, Group, Paper, Stack, Switch, Text, Title } from '@mantine/core';
import { IconAlertTriangle } from '@tabler/icons-react';
import { useEffect, useState } from 'react';
import { cancelConnectionCheck, formatAge, getConnection, recheckDatabase, setCountRows, toApiError, type ApiError, type CheckResult, type ConnectionView } from '../api';
import { useCall } from '../useCall';
import { ConnectingNotice, ServerSummary } from './ConnectionForm';
import { EditDatabaseDialog } from './EditDatabaseDialog';
import { ErrorNotice } from './ErrorNotice';
import { PrivilegeReportView, verdictLabel } from './PrivilegeReportView';
import { RemoveDatabaseDialog } from './RemoveDatabaseDialog';
import { RenameDatabaseDialog } from './RenameDatabaseDialog';
import { SwitchRoleDialog } from './SwitchRoleDialog';

// The warning and the panel read the same stored connection: a change in
// one reloads the other.
const reloaders = new Set<() => void>();
const connectionChanged = () => reloaders.forEach((r) => r());

function useConnection(db: string) {
  const call = useCall(() => getConnection(db), `read the connection of ${db}`);
  const { reload } = call;
  useEffect(() => {
    reloaders.add(reload);
    return () => {
      reloaders.delete(reload);
    };
  }, [reload]);
  return call;
}

/** A visible warning when the database's role can change data, with the way out. */
export function RoleWarning({ db, onChanged }: { db: string; onChanged?: () => void }) {
  const conn = useConnection(db);
  const [switching, setSwitching] = useState<string | null>(null);
  const w = conn.state.data?.writeAccess;
  const dialog = (
    <SwitchRoleDialog
      name={switching}
      onClose={() => setSwitching(null)}
      onSwitched={() => {
        connectionChanged();
        onChanged?.();
      }}
    />
  );
  // One shape whatever w is: the dialog must outlive the warning it removes.
  return (
    <>
      {w && (
        <Alert
          color={w === 'found' ? 'red' : 'orange'}
          variant="light"
          icon={<IconAlertTriangle size={18} />}
          title={w === 'found' ? 'Its role can now change data' : 'Its role can change data'}
          data-testid="write-access-warning"
          data-write-access={w}
        >
          <Text size="sm">
            {w === 'found'
              ? 'The latest privilege check found that the role PgSafe connects as can change data, though it was read-only before. PgSafe needs only read access.'
              : 'You accepted a role that can change data. PgSafe needs only read access: if this password leaks, so does the power to change or delete data.'}
          </Text>
          <Group mt="xs">
            <Button size="xs" color={w === 'found' ? 'red' : 'orange'} onClick={() => setSwitching(db)}>
              Switch to a read-only role
            </Button>
          </Group>
        </Alert>
      )}
      {dialog}
    </>
  );
}

interface PanelProps {
  db: string;
  /** Something about the database changed (a rename included): reload it. */
  onChanged?: () => void;
  /** It was removed: leave its page. */
  onRemoved: () => void;
}

/** Connection: what PgSafe connects with and what the role may do; edit, re-check, rename, row counts, remove. */
export function ManageDatabasePanel({ db, onChanged, onRemoved }: PanelProps) {
  const conn = useConnection(db);
  const c = conn.state.data;
  const [editing, setEditing] = useState<ConnectionView | null>(null);
  const [renaming, setRenaming] = useState<string | null>(null);
  const [removing, setRemoving] = useState<string | null>(null);
  const [checking, setChecking] = useState(false);
  const [check, setCheck] = useState<CheckResult | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const changed = () => {
    connectionChanged();
    onChanged?.();
  };
  const recheck = async () => {
    setChecking(true);
    setCheck(null);
    setError(null);
    try {
      setCheck(await recheckDatabase(db));
    } catch (e) {
      setError(toApiError(`check the privileges of ${db}`, e));
    } finally {
      setChecking(false);
      changed();
    }
  };
  const countRows = async (on: boolean) => {
    setError(null);
    try {
      await setCountRows(db, on);
    } catch (e) {
      setError(toApiError('change the row-count setting', e));
    }
    changed();
  };
  const verdict = c?.verdict ? verdictLabel[c.verdict] : null;

  return (
    <Paper withBorder radius="md" p="md" data-testid="manage-database">
      <Group justify="space-between" align="flex-start" mb="xs">
        <Title order={2} size="h5">
          Connection
        </Title>
        {c && (
          <Group gap={6} data-testid="role-verdict" data-verdict={c.verdict}>
            {verdict ? (
              <Badge color={verdict.color} variant="light" tt="none">
                {verdict.label}
              </Badge>
            ) : (
              <Badge color="gray" variant="light" tt="none">
                not checked yet
              </Badge>
            )}
            {c.checkedAt && (
              <Text size="xs" c="dimmed">
                checked {formatAge(c.checkedAt)}
              </Text>
            )}
          </Group>
        )}
      </Group>
      {conn.state.error && <ErrorNotice error={conn.state.error} onRetry={conn.reload} />}
      {c && (
        <Stack gap="sm">
          <Text size="sm" className="selectable" data-testid="connection-line">
            {c.urlCommandSet ? 'Connection from a command (set ✓, never shown), run before each connection' : `${c.user}@${c.host}:${c.port}/${c.dbname}`}
            <Text span c="dimmed" size="sm">
              {c.urlCommandSet
                ? ''
                : ` · SSL ${c.sslmode || 'prefer'} · ${c.passwordCommandSet ? 'password from a command (set ✓, never shown)' : c.passwordSet ? 'password stored (never shown)' : 'no password stored'}`}
              {c.ssh ? ` · through ${c.ssh.user}@${c.ssh.host}` : ''}
            </Text>
          </Text>
          <Group gap="xs">
            <Button size="xs" variant="default" onClick={() => setEditing(c)}>
              Edit connection…
            </Button>
            <Button size="xs" variant="default" onClick={recheck} loading={checking}>
              Re-check privileges
            </Button>
            <Button size="xs" variant="default" onClick={() => setRenaming(db)}>
              Rename…
            </Button>
            <Button size="xs" variant="light" color="red" onClick={() => setRemoving(db)}>
              Remove…
            </Button>
          </Group>
          {checking && <ConnectingNotice target={c.urlCommandSet ? 'the server the command names' : `${c.host}:${c.port}`} onCancel={() => cancelConnectionCheck(db)} />}
          {check && (
            <Paper withBorder radius="sm" p="sm" data-testid="recheck-result">
              <Group justify="space-between" wrap="nowrap" align="flex-start" mb="xs">
                <ServerSummary check={check} />
                <CloseButton aria-label="Hide the check" onClick={() => setCheck(null)} />
              </Group>
              <PrivilegeReportView report={check.report} />
            </Paper>
          )}
          {error && <ErrorNotice error={error} />}
          <Switch
            checked={c.countRows}
            onChange={(e) => countRows(e.currentTarget.checked)}
            label="Count rows in each backup"
            description="Records every table’s row count, read from the dump itself as it streams (no extra time, no second read of any table), so verification and restore drills can prove that nothing is missing. Off: the counts are left out of the backup and drills cannot compare them."
            data-testid="count-rows"
          />
        </Stack>
      )}
      <EditDatabaseDialog
        conn={editing}
        onClose={() => setEditing(null)}
        onSaved={() => {
          // What an earlier check said is about the old connection.
          setError(null);
          setCheck(null);
          changed();
        }}
      />
      <RenameDatabaseDialog
        name={renaming}
        onClose={() => setRenaming(null)}
        onRenamed={() => {
          setRenaming(null);
          onChanged?.();
        }}
      />
      <RemoveDatabaseDialog
        name={removing}
        onClose={() => setRemoving(null)}
        onRemoved={() => {
          setRemoving(null);
          onRemoved();
        }}
      />
    </Paper>
  );
}
