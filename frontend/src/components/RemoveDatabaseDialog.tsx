import { Button, Group, List, Modal, Stack, Text, TextInput } from '@mantine/core';
import { useEffect, useState } from 'react';
import { removeDatabase, toApiError, type ApiError } from '../api';
import { ErrorNotice } from './ErrorNotice';

interface Props {
  /** The database to remove; null: closed. */
  name: string | null;
  onClose: () => void;
  onRemoved: () => void;
}

/** Remove a database from PgSafe, confirmed by typing its name. Its backups stay where they are. */
export function RemoveDatabaseDialog({ name, onClose, onRemoved }: Props) {
  const [typed, setTyped] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);
  useEffect(() => {
    setTyped('');
    setError(null);
  }, [name]);
  const remove = async () => {
    if (!name) return;
    setBusy(true);
    setError(null);
    try {
      await removeDatabase(name);
      onRemoved();
    } catch (e) {
      setError(toApiError(`remove ${name}`, e));
    } finally {
      setBusy(false);
    }
  };
  return (
    <Modal opened={!!name} onClose={onClose} title={`Remove ${name ?? ''} from PgSafe?`} size="lg" radius="md">
      <Stack gap="sm">
        <Text size="sm">PgSafe stops backing it up and forgets its connection, schedule, retention, drill and connection-check settings.</Text>
        <List size="sm" spacing={4}>
          <List.Item>The database itself is not touched.</List.Item>
          <List.Item>
            Its backups stay in your storages (and are listed in Activity). To restore one later, use <b>Restore from a file…</b> on the
            Overview with its .pgsafe file from the storage’s folder, bucket or server.
          </List.Item>
        </List>
        <TextInput
          label={
            <>
              Type <b className="selectable">{name}</b> to confirm
            </>
          }
          value={typed}
          onChange={(e) => setTyped(e.currentTarget.value)}
          autoComplete="off"
          data-autofocus
          aria-label="Type the database’s name to confirm"
        />
        {error && <ErrorNotice error={error} />}
        <Group justify="flex-end">
          <Button variant="default" onClick={onClose}>
            Keep it
          </Button>
          <Button color="red" onClick={remove} loading={busy} disabled={typed !== name}>
            Remove {name}
          </Button>
        </Group>
      </Stack>
    </Modal>
  );
}
