import { Alert, Badge, Button, Checkbox, Chip, Group, Modal, NumberInput, Paper, PasswordInput, SegmentedControl, Stack, Table, Text, TextInput, Title } from '@mantine/core';
import { IconPlus } from '@tabler/icons-react';
import { useState } from 'react';
import { addStorage, chooseFolder, cloudKinds, type CloudKind, listStorages, removeStorage, storageHostKey, testStorage, toApiError, type ApiError, type StorageForm, type StorageKind } from '../api';
import { CloudSignIn } from '../components/CloudSignIn';
import { ErrorNotice } from '../components/ErrorNotice';
import { useCall } from '../useCall';
import { useRowTests } from '../useRowTests';

/** The kinds the Add storage dialog offers, in its order. */
const storageKinds: { value: StorageKind; label: string }[] = [
  { value: 'local', label: 'Folder' },
  { value: 's3', label: 'S3 / compatible' },
  { value: 'sftp', label: 'SFTP' },
  { value: 'webdav', label: 'WebDAV' },
  { value: 'azure', label: 'Azure Blob' },
  { value: 'gdrive', label: 'Google Drive' },
  { value: 'dropbox', label: 'Dropbox' },
  { value: 'onedrive', label: 'OneDrive' },
];

const kindLabel: Record<string, string> = { local: 'Folder', s3: 'S3', sftp: 'SFTP', webdav: 'WebDAV', azure: 'Azure', gdrive: 'Google Drive', dropbox: 'Dropbox', onedrive: 'OneDrive' };

/** Where backups are kept: list, test, add, remove. */
/** onOpenSettings opens Settings at a panel (the add dialog's link to the cloud drives' clients). */
export function StoragesPage({ onOpenSettings }: { onOpenSettings?: (section: string) => void } = {}) {
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
            No storage yet. Add a folder (a disk, a NAS share, a USB drive), an S3 bucket, an SFTP server, a WebDAV folder (Nextcloud, ownCloud, a NAS), an Azure container, or your Google Drive, Dropbox or OneDrive: every backup is encrypted before it is written there.
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
      <AddStorageDialog opened={adding} onClose={() => setAdding(false)} onAdded={storages.reload} onOpenSettings={onOpenSettings} />
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

// ObjectLockFields: keep every backup undeletable for some days (S3 Object
// Lock; docs/STORAGE.md). The bucket must have Object Lock turned on.
function ObjectLockFields({ days, mode, onChange }: { days: number; mode: string; onChange: (p: Partial<StorageForm>) => void }) {
  const on = days > 0;
  return (
    <>
      <Checkbox
        label="Keep backups undeletable for a number of days (S3 Object Lock)"
        description="No one — not PgSafe, not anyone who steals its keys — can delete or overwrite a backup before then. The bucket must have been created with Object Lock turned on."
        checked={on}
        onChange={(e) => onChange(e.currentTarget.checked ? { objectLockDays: 30, objectLockMode: 'governance' } : { objectLockDays: 0, objectLockMode: '' })}
      />
      {on && (
        <Group grow align="flex-start">
          <NumberInput
            label="Days"
            description="At least as long as your retention keeps every backup; you pay for each backup until then"
            value={days}
            min={1}
            max={36500}
            onChange={(v) => onChange({ objectLockDays: Math.max(1, Number(v) || 1) })}
          />
          <Stack gap={4}>
            <Text size="sm" fw={500}>
              Who can lift the lock
            </Text>
            <SegmentedControl
              value={mode || 'governance'}
              onChange={(v) => onChange({ objectLockMode: v })}
              data={[
                { value: 'governance', label: 'An administrator' },
                { value: 'compliance', label: 'No one' },
              ]}
            />
            <Text size="xs" c="dimmed">
              {mode === 'compliance' ? 'Compliance mode: not even the account owner can delete a backup early.' : 'Governance mode: an account allowed to bypass the lock can still delete.'}
            </Text>
          </Stack>
        </Group>
      )}
    </>
  );
}

/**
 * plainHttp says whether a WebDAV address is http:// to a machine other than
 * this one (localhost, 127.0.0.0/8, ::1): Basic auth would send the password
 * readable on the network. The Go side refuses it without the user's consent
 * by the same rule (webdav.PlainHTTP).
 */
function plainHttp(raw: string): boolean {
  let u: URL;
  try {
    u = new URL(raw.trim());
  } catch {
    return false;
  }
  if (u.protocol !== 'http:') return false;
  const host = u.hostname.toLowerCase().replace(/\.$/, '').replace(/^\[(.*)\]$/, '$1');
  return !(host === 'localhost' || host.endsWith('.localhost') || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host));
}

const empty: StorageForm = {
  name: '', kind: 'local', path: '', endpoint: '', region: '', bucket: '', prefix: '', pathStyle: false, storageClass: '', sse: '',
  accessKeyId: '', secretKey: '', host: '', port: 22, user: '', password: '', keyPath: '', keyPassphrase: '', hostKey: '',
  url: '', certSha256: '', allowHttp: false,
  objectLockDays: 0, objectLockMode: '',
  account: '', container: '', accountKey: '', sas: '',
};

export function AddStorageDialog({
  opened,
  onClose,
  onAdded,
  onOpenSettings,
}: {
  opened: boolean;
  onClose: () => void;
  onAdded: () => void;
  onOpenSettings?: (section: string) => void;
}) {
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
      await addStorage({ ...f, hostKey: f.kind === 'sftp' && trusted && fingerprint ? fingerprint.key : '', allowHttp: f.kind === 'webdav' && insecure && f.allowHttp });
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
  const insecure = f.kind === 'webdav' && plainHttp(f.url);
  const ready = f.name !== '' && (f.kind !== 'sftp' || trusted) && (!insecure || f.allowHttp);
  const cloud = cloudKinds.includes(f.kind as CloudKind);
  return (
    <Modal opened={opened} onClose={close} title="Add storage" size="lg">
      <Stack gap="sm">
        {/* Eight kinds do not fit one segmented row at 900 px: chips that wrap. */}
        <Chip.Group value={f.kind} onChange={(v) => set({ kind: v as StorageKind })}>
          <Group gap={6} role="radiogroup" aria-label="Kind of storage">
            {storageKinds.map((k) => (
              <Chip key={k.value} value={k.value} type="radio" size="sm" radius="sm" variant="outline">
                {k.label}
              </Chip>
            ))}
          </Group>
        </Chip.Group>
        <TextInput label="Name" placeholder={{ gdrive: 'my Google Drive', dropbox: 'my Dropbox', onedrive: 'my OneDrive' }[f.kind as string] ?? 'office NAS'} value={f.name} onChange={(e) => set({ name: e.currentTarget.value })} required />
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
            <ObjectLockFields days={f.objectLockDays} mode={f.objectLockMode} onChange={set} />
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
        {f.kind === 'webdav' && (
          <>
            <TextInput
              label="Folder address"
              description="The folder must exist. Nextcloud and ownCloud: https://your-cloud/remote.php/dav/files/USER/FOLDER/"
              placeholder="https://cloud.example.com/remote.php/dav/files/ann/Backups/"
              value={f.url}
              onChange={(e) => set({ url: e.currentTarget.value })}
            />
            {insecure && (
              <Alert variant="light" color="orange" title="The password would travel unencrypted">
                <Text size="sm">
                  This address starts with http://: the backups are encrypted anyway, but the WebDAV password is sent in clear, readable by anyone on the network between this computer and the server. Use https:// if the server offers it.
                </Text>
                <Checkbox mt="xs" label="Send the password unencrypted (trusted network only)" checked={f.allowHttp} onChange={(e) => set({ allowHttp: e.currentTarget.checked })} />
              </Alert>
            )}
            <Group grow>
              <TextInput label="User" value={f.user} onChange={(e) => set({ user: e.currentTarget.value })} />
              <PasswordInput label="Password" description="Nextcloud: an app password" value={f.password} onChange={(e) => set({ password: e.currentTarget.value })} />
            </Group>
            <TextInput
              label="Certificate fingerprint (SHA-256)"
              description="Only for a server with a self-signed certificate: PgSafe shows it when it refuses the server; check it on the server first"
              value={f.certSha256}
              onChange={(e) => set({ certSha256: e.currentTarget.value })}
            />
          </>
        )}
        {f.kind === 'azure' && <AzureFields f={f} set={set} />}
        {cloud && (
          <CloudSignIn
            kind={f.kind as CloudKind}
            name={f.name}
            onCancel={close}
            onOpenSettings={
              onOpenSettings &&
              (() => {
                close();
                onOpenSettings('cloud-title');
              })
            }
            onAdded={() => {
              onAdded();
              close();
            }}
          />
        )}
        {!cloud && error && <ErrorNotice error={error} />}
        {!cloud && (
          <Group justify="flex-end">
            <Button variant="default" onClick={close}>
              Cancel
            </Button>
            <Button onClick={save} loading={busy} disabled={!ready}>
              Test and save
            </Button>
          </Group>
        )}
      </Stack>
    </Modal>
  );
}

// The Azure Blob Storage part of the form: where, and one of the account's
// access key or a SAS token (switching clears the other).
function AzureFields({ f, set }: { f: StorageForm; set: (patch: Partial<StorageForm>) => void }) {
  const [auth, setAuth] = useState<'key' | 'sas'>(f.sas ? 'sas' : 'key');
  return (
    <>
      <Group grow>
        <TextInput label="Storage account" placeholder="mycompanybackups" value={f.account} onChange={(e) => set({ account: e.currentTarget.value })} required />
        <TextInput label="Container" placeholder="pgsafe" value={f.container} onChange={(e) => set({ container: e.currentTarget.value })} required />
      </Group>
      <Group grow>
        <TextInput label="Folder in the container" placeholder="Empty for the whole container" value={f.prefix} onChange={(e) => set({ prefix: e.currentTarget.value })} />
        <TextInput
          label="Endpoint"
          description="Empty for Azure; for the emulator or another cloud"
          placeholder="https://ACCOUNT.blob.core.windows.net"
          value={f.endpoint}
          onChange={(e) => set({ endpoint: e.currentTarget.value })}
        />
      </Group>
      <SegmentedControl
        value={auth}
        onChange={(v) => {
          setAuth(v as 'key' | 'sas');
          set({ accountKey: '', sas: '' });
        }}
        data={[
          { value: 'key', label: 'Use the access key' },
          { value: 'sas', label: 'Use a SAS token' },
        ]}
      />
      {auth === 'key' ? (
        <PasswordInput
          label="Access key"
          description="key1 or key2, under the storage account’s “Access keys” in the Azure portal"
          value={f.accountKey}
          onChange={(e) => set({ accountKey: e.currentTarget.value })}
        />
      ) : (
        <PasswordInput
          label="SAS token"
          description="For the container, allowing read, add, create, write, delete and list (the token or the whole SAS URL)"
          value={f.sas}
          onChange={(e) => set({ sas: e.currentTarget.value })}
        />
      )}
    </>
  );
}
