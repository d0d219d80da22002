import { Button, Group, Modal, Stack, Text, TextInput } from '@mantine/core';
import { useEffect, useState } from 'react';
import { renameDatabase, toApiError, type ApiError } from '../api';
import { ErrorNotice } from './ErrorNotice';

interface Props {
  /** The database to rename; null: closed. */
  name: string | null;
  onClose: () => void;
  onRenamed: (newName: string) => void;
}

/** Rename a database in PgSafe; its schedule, history and settings follow. */
export function RenameDatabaseDialog({ name, onClose, onRenamed }: Props) {
  const [value, setValue] = useState(name ?? '');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);
  useEffect(() => {
    setValue(name ?? '');
    setError(null);
  }, [name]);
  const save = async () => {
    if (!name) return;
    setBusy(true);
    setError(null);
    try {
      const r = await renameDatabase(name, value);
      onRenamed(r.name);
    } catch (e) {
      setError(toApiError(`rename ${name}`, e));
    } finally {
      setBusy(false);
    }
  };
  const unchanged = value.trim() === '' || value.trim() === name;
  return (
    <Modal opened={!!name} onClose={onClose} title={`Rename ${name ?? ''}`} radius="md">
      <form
        onSubmit={(e) => {
          e.preventDefault();
          if (!unchanged) save();
        }}
      >
        <Stack gap="sm">
          <TextInput label="New name" value={value} onChange={(e) => setValue(e.currentTarget.value)} data-autofocus />
          <Text size="xs" c="dimmed">
            Only PgSafe’s name for it changes: its schedule, backups and settings stay with it. Backups made before keep the old name in their
            files.
          </Text>
          {error && <ErrorNotice error={error} />}
          <Group justify="flex-end">
            <Button variant="default" onClick={onClose}>
              Cancel
            </Button>
            <Button type="submit" loading={busy} disabled={unchanged}>
              Rename
            </Button>
          </Group>
        </Stack>
      </form>
    </Modal>
  );
}
