import { Alert, Button, Group, Modal, Stack, Text, TextInput } from '@mantine/core';
import { useState } from 'react';
import { chooseBackupFile, formatBytes, importBackupFile, toApiError, type ApiError, type ImportedBackup } from '../api';
import { ErrorNotice } from './ErrorNotice';
import { ImportKitDialog } from './ImportKitDialog';
import { formatDateTime } from '../format';

/**
 * Restore from a file: a .pgsafe backup that is in none of this machine's
 * storages (copied from another machine, opened with its recovery kit). The
 * file is read and authenticated, added to the history, then restored.
 */
export function ImportDialog({ opened, onClose, onRestore }: { opened: boolean; onClose: () => void; onRestore: (b: ImportedBackup) => void }) {
  const [path, setPath] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);
  const [found, setFound] = useState<ImportedBackup | null>(null);
  const [kitOpen, setKitOpen] = useState(false);
  // The file was made with another key (keys.WrongKeyError): offer its kit.
  const needKey = error?.detail.match(/this backup needs key ([0-9a-f]{16})/)?.[1];
  const browse = async () => {
    try {
      const p = await chooseBackupFile();
      if (p) setPath(p);
    } catch (e) {
      setError(toApiError('open the file chooser', e));
    }
  };
  const read = async () => {
    setBusy(true);
    setError(null);
    setFound(null);
    try {
      setFound(await importBackupFile(path));
    } catch (e) {
      setError(toApiError('read the backup file', e));
    } finally {
      setBusy(false);
    }
  };
  const close = () => {
    setFound(null);
    setError(null);
    onClose();
  };
  return (
    <Modal opened={opened} onClose={close} title="Restore from a backup file" size="lg">
      <Stack gap="sm">
        <Text size="sm" c="dimmed">
          A .pgsafe file from another machine opens with that machine’s key: PgSafe offers to import its recovery kit when needed. If the file’s
          manifest (NAME.manifest.pgsafe) is beside it, PgSafe also learns the row counts recorded at backup time.
        </Text>
        <Group align="end" wrap="nowrap">
          <TextInput label="Backup file" placeholder="/path/to/backup.pgsafe" value={path} onChange={(e) => setPath(e.currentTarget.value)} style={{ flex: 1 }} spellCheck={false} />
          <Button variant="default" onClick={browse}>
            Browse…
          </Button>
          <Button onClick={read} loading={busy} disabled={!path.trim()}>
            Read file
          </Button>
        </Group>
        {error && <ErrorNotice error={error} />}
        {needKey && (
          <Group justify="flex-end">
            <Button variant="light" onClick={() => setKitOpen(true)}>
              Import the recovery kit of key {needKey}…
            </Button>
          </Group>
        )}
        <ImportKitDialog
          opened={kitOpen}
          needKeyId={needKey}
          onClose={() => setKitOpen(false)}
          onImported={() => void read()}
        />
        {found && (
          <Alert color="green" variant="light" title={`Backup of ${found.database || 'a database'} ✓`} data-testid="imported-backup">
            <Text size="sm">
              PostgreSQL {found.serverVersion || '?'} · {formatBytes(found.storedSize)} · {formatDateTime(found.started)}
              {found.rowsCounted ? ' · row counts known' : ' · no manifest beside it: row counts unknown'}
            </Text>
            <Group justify="flex-end" mt="sm">
              <Button onClick={() => onRestore(found)}>Restore…</Button>
            </Group>
          </Alert>
        )}
      </Stack>
    </Modal>
  );
}
