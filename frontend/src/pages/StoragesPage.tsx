import { Alert, Badge, Button, Checkbox, Group, Modal, NumberInput, Paper, PasswordInput, SegmentedControl, Stack, Table, Text, TextInput, Title } from '@mantine/core';
import { IconPlus } from '@tabler/icons-react';
import { useState } from 'react';
import { addStorage, chooseFolder, listStorages, removeStorage, storageHostKey, testStorage, toApiError, type ApiError, type StorageForm, type StorageKind } from '../api';
import { ErrorNotice } from '../components/ErrorNotice';
import { useCall } from '../useCall';
import { useRowTests } from '../useRowTests';

const kindLabel: Record<string, string> = { local: 'Folder', s3: 'S3', sftp: 'SFTP' };

/** Where backups are kept: list, test, add, remove. */
export function StoragesPage() {
  const storages = useCall(listStorages, 'list your storages');
  const [adding, setAdding] = useState(false);
  const { results, test } = useRowTests(testStorage, 'Works: wrote, read back and deleted a test file', 'test storage');
  const [removing, setRemoving] = useState<string | null>(null);
  const rows = storages.state.data ?? [];
  return (
    <Stack gap="lg">
      <Group justify="space-between">
        <Title order={1} size="h3">
          Storages
        </Title>
        <Button leftSection={<IconPlus size={16} />} variant="light" onClick={() => setAdding(true)}>
          Add storage
        </Button>
      </Group>
      {storages.state.error && <ErrorNotice error={storages.state.error} onRetry={storages.reload} />}
      <Paper withBorder radius="md" p="md">
        {rows.length === 0 ? (
          <Text size="sm" c="dimmed">
            No storage yet. Add a folder (a disk, a NAS share, a USB drive), an S3 bucket or an SFTP server: every backup is encrypted before it is written there.
          </Text>
        ) : (
          <Table verticalSpacing="sm" data-testid="storages-table">
            <Table.Thead>
              <Table.Tr>
                <Table.Th>Name</Table.Th>
                <Table.Th>Kind</Table.Th>
                <Table.Th>Where</Table.Th>
                <Table.Th />
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {rows.map((s) => {
                const r = results[s.name];
                return (
                  <Table.Tr key={s.id} data-testid="storage-row" data-name={s.name}>
                    <Table.Td>
                      <Text fw={600} size="sm">
                        {s.name}
                      </Text>
                    </Table.Td>
                    <Table.Td>
                      <Badge variant="default" tt="none">
                        {kindLabel[s.kind] ?? s.kind}
                      </Badge>
                    </Table.Td>
                    <Table.Td>
                      <Text size="sm" className="selectable">
                        {s.where}
                      </Text>
                      {r && r !== 'running' && (
                        <Text size="xs" c={r.ok ? 'green' : 'red'} data-testid="storage-test-result" className="selectable">
                          {r.ok ? '✓ ' : '✗ '}
                          {r.text}
                        </Text>
                      )}
                    </Table.Td>
                    <Table.Td>
                      <Group gap="xs" justify="flex-end" wrap="nowrap">
                        <Button size="xs" variant="default" loading={r === 'running'} onClick={() => test(s.name)}>
                          Test
                        </Button>
                        <Button size="xs" variant="subtle" color="red" onClick={() => setRemoving(s.name)}>
                          Remove
                        </Button>
                      </Group>
                    </Table.Td>
                  </Table.Tr>
                );
              })}
            </Table.Tbody>
          </Table>
        )}
      </Paper>
      <AddStorageDialog opened={adding} onClose={() => setAdding(false)} onAdded={storages.reload} />
      <RemoveDialog name={removing} onClose={() => setRemoving(null)} onRemoved={storages.reload} />
    </Stack>
  );
}

function RemoveDialog({ name, onClose, onRemoved }: { name: string | null; onClose: () => void; onRemoved: () => void }) {
  const [error, setError] = useState<ApiError | null>(null);
  const remove = async () => {
    try {
      await removeStorage(name!);
      onRemoved();
      onClose();
    } catch (e) {
      setError(toApiError(`remove storage ${name}`, e));
    }
  };
  return (
    <Modal opened={!!name} onClose={onClose} title={`Remove storage ${name}?`}>
      <Text size="sm">PgSafe will stop writing backups there. The backups already in it stay where they are; nothing is deleted.</Text>
      {error && <ErrorNotice error={error} />}
      <Group justify="flex-end" mt="md">
        <Button variant="default" onClick={onClose}>
          Keep it
        </Button>
        <Button color="red" onClick={remove}>
          Remove {name}
        </Button>
      </Group>
    </Modal>
  );
}

const empty: StorageForm = {
  name: '', kind: 'local', path: '', endpoint: '', region: '', bucket: '', prefix: '', pathStyle: false, storageClass: '', sse: '',
  accessKeyId: '', secretKey: '', host: '', port: 22, user: '', password: '', keyPath: '', keyPassphrase: '', hostKey: '',
};

export function AddStorageDialog({ opened, onClose, onAdded }: { opened: boolean; onClose: () => void; onAdded: () => void }) {
  const [f, setF] = useState<StorageForm>(empty);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);
  const [fingerprint, setFingerprint] = useState<{ fingerprint: string; key: string } | null>(null);
  const [trusted, setTrusted] = useState(false);
  const set = (patch: Partial<StorageForm>) => setF((x) => ({ ...x, ...patch }));
  const close = () => {
    setF(empty);
    setError(null);
    setFingerprint(null);
    setTrusted(false);
    onClose();
  };
  const save = async () => {
    setBusy(true);
    setError(null);
    try {
      await addStorage({ ...f, hostKey: f.kind === 'sftp' && trusted && fingerprint ? fingerprint.key : '' });
      onAdded();
      close();
    } catch (e) {
      setError(toApiError(`add storage ${f.name}`, e));
    } finally {
      setBusy(false);
    }
  };
  const fetchKey = async () => {
    setError(null);
    try {
      setFingerprint(await storageHostKey(f));
    } catch (e) {
      setError(toApiError(`read the host key of ${f.host}`, e));
    }
  };
  // The system's folder chooser; cancelling keeps what is typed.
  const browse = async () => {
    setError(null);
    try {
      const dir = await chooseFolder('Choose the folder for backups', f.path);
      if (dir) set({ path: dir });
    } catch (e) {
      setError(toApiError('open the folder chooser', e));
    }
  };
  const ready = f.name !== '' && (f.kind !== 'sftp' || trusted);
  return (
    <Modal opened={opened} onClose={close} title="Add storage" size="lg">
      <Stack gap="sm">
        <SegmentedControl
          value={f.kind}
          onChange={(v) => set({ kind: v as StorageKind })}
          data={[
            { value: 'local', label: 'Folder' },
            { value: 's3', label: 'S3 / compatible' },
            { value: 'sftp', label: 'SFTP' },
          ]}
        />
        <TextInput label="Name" placeholder="office NAS" value={f.name} onChange={(e) => set({ name: e.currentTarget.value })} required />
        {f.kind === 'local' && (
          <Group align="flex-end" gap="xs" wrap="nowrap">
            <TextInput
              label="Folder"
              description="Must exist: a disk, a mounted NAS share or USB drive"
              placeholder="/mnt/backups"
              value={f.path}
              onChange={(e) => set({ path: e.currentTarget.value })}
              style={{ flex: 1 }}
            />
            <Button variant="default" onClick={browse}>
              Browse…
            </Button>
          </Group>
        )}
        {f.kind === 's3' && (
          <>
            <Group grow>
              <TextInput label="Endpoint" description="Empty for AWS" placeholder="https://s3.eu-central-003.backblazeb2.com" value={f.endpoint} onChange={(e) => set({ endpoint: e.currentTarget.value })} />
              <TextInput label="Region" placeholder="us-east-1" value={f.region} onChange={(e) => set({ region: e.currentTarget.value })} />
            </Group>
            <Group grow>
              <TextInput label="Bucket" value={f.bucket} onChange={(e) => set({ bucket: e.currentTarget.value })} required />
              <TextInput label="Prefix" placeholder="pgsafe/" value={f.prefix} onChange={(e) => set({ prefix: e.currentTarget.value })} />
            </Group>
            <Group grow>
              <TextInput label="Access key ID" value={f.accessKeyId} onChange={(e) => set({ accessKeyId: e.currentTarget.value })} />
              <PasswordInput label="Secret access key" value={f.secretKey} onChange={(e) => set({ secretKey: e.currentTarget.value })} />
            </Group>
            <Group grow>
              <TextInput label="Storage class" placeholder="STANDARD" value={f.storageClass} onChange={(e) => set({ storageClass: e.currentTarget.value })} />
              <TextInput label="Server-side encryption" placeholder="AES256 or aws:kms" value={f.sse} onChange={(e) => set({ sse: e.currentTarget.value })} />
            </Group>
            <Checkbox label="Path-style addressing (MinIO and most self-hosted servers)" checked={f.pathStyle} onChange={(e) => set({ pathStyle: e.currentTarget.checked })} />
          </>
        )}
        {f.kind === 'sftp' && (
          <>
            <Group grow>
              <TextInput label="Host" value={f.host} onChange={(e) => { set({ host: e.currentTarget.value }); setFingerprint(null); setTrusted(false); }} />
              <NumberInput label="Port" value={f.port} onChange={(v) => set({ port: Number(v) || 22 })} min={1} max={65535} />
              <TextInput label="User" value={f.user} onChange={(e) => set({ user: e.currentTarget.value })} />
            </Group>
            <TextInput label="Folder on the server" placeholder="backups" value={f.path} onChange={(e) => set({ path: e.currentTarget.value })} />
            <Group grow>
              <PasswordInput label="Password" description="Or a private key below" value={f.password} onChange={(e) => set({ password: e.currentTarget.value })} />
              <TextInput label="Private key file" placeholder="~/.ssh/id_ed25519" value={f.keyPath} onChange={(e) => set({ keyPath: e.currentTarget.value })} />
            </Group>
            {f.keyPath && <PasswordInput label="Key passphrase" value={f.keyPassphrase} onChange={(e) => set({ keyPassphrase: e.currentTarget.value })} />}
            {fingerprint ? (
              <Alert variant="light" color="blue" title="Check the server’s host key">
                <Text size="sm" className="selectable" ff="monospace">
                  {fingerprint.fingerprint}
                </Text>
                <Checkbox mt="xs" label="This is the fingerprint the server’s administrator gave me" checked={trusted} onChange={(e) => setTrusted(e.currentTarget.checked)} />
              </Alert>
            ) : (
              <Button variant="default" onClick={fetchKey} disabled={!f.host}>
                Show the server’s host key
              </Button>
            )}
          </>
        )}
        {error && <ErrorNotice error={error} />}
        <Group justify="flex-end">
          <Button variant="default" onClick={close}>
            Cancel
          </Button>
          <Button onClick={save} loading={busy} disabled={!ready}>
            Test and save
          </Button>
        </Group>
      </Stack>
    </Modal>
  );
}
