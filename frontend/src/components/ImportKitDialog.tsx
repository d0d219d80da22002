import { Alert, Button, Checkbox, Code, Group, Modal, PasswordInput, Stack, Text, TextInput } from '@mantine/core';
import { IconAlertTriangle, IconCheck } from '@tabler/icons-react';
import { useEffect, useState } from 'react';
import { chooseKitFile, importRecoveryKit, inspectRecoveryKit, toApiError, type ApiError, type KitCheck, type KitImported } from '../api';
import { ErrorNotice } from './ErrorNotice';

/**
 * Import a recovery kit: choose the file, see which key it holds and what
 * importing does here, type its passphrase. A different key already on
 * this computer is replaced only when the user ticks so, and only where
 * nothing was made with it (the Go side decides and says why not).
 */
export function ImportKitDialog({ opened, onClose, onImported, needKeyId }: { opened: boolean; onClose: () => void; onImported?: (r: KitImported) => void; needKeyId?: string }) {
  const [path, setPath] = useState('');
  const [check, setCheck] = useState<KitCheck | null>(null);
  const [passphrase, setPassphrase] = useState('');
  const [replace, setReplace] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);
  const [done, setDone] = useState<KitImported | null>(null);

  useEffect(() => {
    if (!opened) return;
    setCheck(null);
    setPassphrase('');
    setReplace(false);
    setError(null);
    setDone(null);
  }, [opened]);

  const read = async (p = path) => {
    setBusy(true);
    setError(null);
    setCheck(null);
    setReplace(false);
    try {
      setCheck(await inspectRecoveryKit(p));
    } catch (e) {
      setError(toApiError('read the recovery kit', e));
    } finally {
      setBusy(false);
    }
  };
  const browse = async () => {
    try {
      const p = await chooseKitFile();
      if (p) {
        setPath(p);
        await read(p);
      }
    } catch (e) {
      setError(toApiError('open the file chooser', e));
    }
  };
  const doImport = async () => {
    if (!check) return;
    setBusy(true);
    setError(null);
    try {
      const r = await importRecoveryKit(check.path, passphrase, replace);
      setPassphrase('');
      setDone(r);
      onImported?.(r);
    } catch (e) {
      setError(toApiError('import the recovery kit', e));
    } finally {
      setBusy(false);
    }
  };
  const close = () => {
    setPassphrase('');
    onClose();
  };
  const ready = check && check.canImport && (check.same || replace) && passphrase !== '';

  return (
    <Modal opened={opened} onClose={close} title="Import a recovery kit" size="lg">
      <Stack gap="sm">
        {needKeyId && (
          <Text size="sm">
            The backup needs key <Code>{needKeyId}</Code>: choose the recovery kit of that key.
          </Text>
        )}
        <Group align="end" wrap="nowrap">
          <TextInput
            label="Kit file"
            placeholder="/path/to/PgSafe-recovery-kit.txt"
            value={path}
            onChange={(e) => {
              setPath(e.currentTarget.value);
              setCheck(null);
            }}
            style={{ flex: 1 }}
            spellCheck={false}
            disabled={!!done}
          />
          <Button variant="default" onClick={browse} disabled={!!done}>
            Browse…
          </Button>
          <Button variant={check ? 'default' : 'filled'} onClick={() => read()} loading={busy && !check} disabled={!path.trim() || !!done}>
            Read kit
          </Button>
        </Group>
        {check && !done && <KitVerdict check={check} needKeyId={needKeyId} replace={replace} setReplace={setReplace} />}
        {check?.canImport && !done && (
          <PasswordInput label="The kit’s passphrase" value={passphrase} onChange={(e) => setPassphrase(e.currentTarget.value)} autoComplete="off" data-autofocus />
        )}
        {error && <ErrorNotice error={error} />}
        {done && <Imported r={done} />}
        <Group justify="flex-end">
          {done ? (
            <Button onClick={close}>Done</Button>
          ) : (
            <>
              <Button variant="default" onClick={close}>
                Cancel
              </Button>
              <Button onClick={doImport} loading={busy && !!check} disabled={!ready} color={check && !check.same ? 'red' : undefined}>
                {check && !check.same ? `Replace key ${check.thisKeyId}` : 'Import'}
              </Button>
            </>
          )}
        </Group>
      </Stack>
    </Modal>
  );
}

/** Which key the kit holds and what importing it does here. */
function KitVerdict({ check, needKeyId, replace, setReplace }: { check: KitCheck; needKeyId?: string; replace: boolean; setReplace: (b: boolean) => void }) {
  const other = needKeyId && check.kitKeyId !== needKeyId;
  return (
    <Stack gap="xs" data-testid="kit-verdict">
      {other && (
        <Alert color="orange" variant="light" icon={<IconAlertTriangle size={18} />}>
          <Text size="sm">
            This kit holds key <Code>{check.kitKeyId}</Code>, not <Code>{needKeyId}</Code>, the key the backup needs.
          </Text>
        </Alert>
      )}
      {check.same ? (
        <Text size="sm">
          This kit holds key <Code>{check.kitKeyId}</Code>, the key this computer uses. Importing it checks its passphrase and records that you hold a kit of it.
        </Text>
      ) : check.blocked ? (
        <Alert color="red" variant="light" title="PgSafe keeps this computer’s key" icon={<IconAlertTriangle size={18} />}>
          <Text size="sm">{check.blocked}</Text>
        </Alert>
      ) : (
        <Alert color="orange" variant="light" title="This computer has a different key" icon={<IconAlertTriangle size={18} />}>
          <Stack gap={6}>
            <Text size="sm">
              This computer uses key <Code>{check.thisKeyId}</Code>; the kit holds key <Code>{check.kitKeyId}</Code>. Nothing has been backed up with{' '}
              <Code>{check.thisKeyId}</Code> yet and no database is set up, so it can be replaced: PgSafe then uses key <Code>{check.kitKeyId}</Code>, sets the
              current (empty) settings aside in its settings folder and opens again. Key <Code>{check.thisKeyId}</Code> is removed from the keychain.
            </Text>
            <Checkbox label={`Replace key ${check.thisKeyId} with key ${check.kitKeyId}`} checked={replace} onChange={(e) => setReplace(e.currentTarget.checked)} />
          </Stack>
        </Alert>
      )}
    </Stack>
  );
}

function Imported({ r }: { r: KitImported }) {
  return (
    <Alert color="green" variant="light" icon={<IconCheck size={18} />} title={r.unchanged ? 'Recovery kit checked' : 'Recovery kit imported'} data-testid="kit-imported">
      <Text size="sm" className="selectable">
        {r.unchanged ? (
          <>
            Key <Code>{r.keyId}</Code> was already this computer’s key; its kit and passphrase are good, and PgSafe records that you hold them.
          </>
        ) : (
          <>
            This computer now uses key <Code>{r.keyId}</Code> in place of <Code>{r.replaced}</Code>. The settings made with the old key were kept in{' '}
            <Code>{r.keptAs}</Code>. Add your storages to find the backups made with <Code>{r.keyId}</Code>.
          </>
        )}
      </Text>
    </Alert>
  );
}
