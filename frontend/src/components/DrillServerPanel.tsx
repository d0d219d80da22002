import { Button, Code, Group, Paper, PasswordInput, Text, Title } from '@mantine/core';
import { useState } from 'react';
import { drillServer, setDrillServer, toApiError, type ApiError } from '../api';
import { UnsavedHint, useUnsavedChanges } from '../unsaved';
import { useCall } from '../useCall';
import { ErrorNotice } from './ErrorNotice';

/** Where restore drills run: a server and a role that may create scratch databases. */
export function DrillServerPanel() {
  const server = useCall(drillServer, 'read the drill server');
  const [url, setUrl] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);
  useUnsavedChanges(url.trim() !== '', 'Restore drills (a drill server typed, not saved)');
  const save = async (value: string) => {
    setBusy(true);
    setError(null);
    try {
      await setDrillServer(value);
      setUrl('');
      server.reload();
    } catch (e) {
      setError(toApiError(value ? 'save the drill server' : 'remove the drill server', e));
    } finally {
      setBusy(false);
    }
  };
  const current = server.state.data;
  return (
    <Paper withBorder radius="md" p="lg" component="section" aria-labelledby="drill-title">
      <Title order={2} size="h5" id="drill-title" mb="xs">
        Restore drills
      </Title>
      <Text size="sm" mb="sm" data-testid="drill-server">
        {!current ? null : current.set ? (
          <>
            Drills run on <Code>{current.address}</Code> (password set ✓ — replace it below).
          </>
        ) : current.local && !current.localProblem ? (
          <>
            No drill server is needed: drills run in a throwaway <Code>{current.local}</Code> that PgSafe starts on this computer (private folder, no
            network, removed afterwards). Set a drill server below only to drill on another server.
          </>
        ) : (
          <>
            No drill server yet. A drill restores a backup into a scratch database and compares row counts. {current.localProblem}
          </>
        )}
      </Text>
      <Group align="end" wrap="nowrap">
        <PasswordInput
          label={current?.set ? 'Replace the drill server' : 'Drill server URL'}
          description="A role that may create databases; PgSafe checks it before saving, keeps it encrypted and never shows the password again."
          placeholder="postgres://drills:password@localhost:5432/postgres"
          value={url}
          onChange={(e) => setUrl(e.currentTarget.value)}
          style={{ flex: 1 }}
          autoComplete="off"
        />
        <Button onClick={() => save(url.trim())} loading={busy} disabled={!url.trim()}>
          Check and save
        </Button>
        {current?.set && (
          <Button variant="default" color="red" onClick={() => save('')} disabled={busy}>
            Remove
          </Button>
        )}
      </Group>
      <UnsavedHint show={url.trim() !== ''} />
      {error && <ErrorNotice error={error} />}
    </Paper>
  );
}
