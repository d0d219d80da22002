import { Button, Code, Group, List, Modal, Stack, Text } from '@mantine/core';
import { useEffect, useRef, useState } from 'react';
import { postponeRecoveryKit, recoveryKit, toApiError, type ApiError, type RecoveryKitInfo } from '../api';
import { ErrorNotice } from './ErrorNotice';
import { ImportKitDialog } from './ImportKitDialog';
import { RecoveryKitDialog } from './RecoveryKitDialog';

/**
 * The first start's welcome: what PgSafe did with the master key and why a
 * recovery kit matters, with the way to save one, to import the kit of a
 * key from another computer, or "Later". It shows while the key in the
 * keychain has no saved kit and the user has not chosen Later.
 */
export function WelcomeDialog({ keyReady, onChanged }: { keyReady: boolean; onChanged?: () => void }) {
  const [info, setInfo] = useState<RecoveryKitInfo | null>(null);
  const [dialog, setDialog] = useState<'welcome' | 'save' | 'import' | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const [busy, setBusy] = useState(false);
  // The user answered the welcome (Later, or a kit saved or imported): an
  // answer to a read begun before that must not open it again.
  const answered = useRef(false);

  useEffect(() => {
    if (!keyReady) return;
    recoveryKit().then(
      (k) => {
        setInfo(k);
        if (k.welcome && !answered.current) setDialog('welcome');
      },
      () => {}, // Settings shows the kit's status and any error
    );
  }, [keyReady]);

  const later = async () => {
    answered.current = true;
    setBusy(true);
    setError(null);
    try {
      await postponeRecoveryKit();
      setDialog(null);
      onChanged?.();
    } catch (e) {
      answered.current = false;
      setError(toApiError('postpone the recovery kit', e));
    } finally {
      setBusy(false);
    }
  };
  // Once a kit is saved or imported, closing its dialog ends the welcome.
  const [kitDone, setKitDone] = useState(false);
  const finished = () => {
    answered.current = true;
    setKitDone(true);
    onChanged?.();
  };
  const back = () => setDialog(kitDone ? null : 'welcome');

  return (
    <>
      <Modal
        opened={dialog === 'welcome'}
        onClose={later}
        withCloseButton={false}
        closeOnClickOutside={false}
        closeOnEscape={false}
        title="Welcome to PgSafe"
        size="lg"
      >
        {info && (
          <Stack gap="sm" data-testid="welcome">
            <Text size="sm">
              {info.keyCreated ? 'PgSafe has created' : 'PgSafe uses'} a master key for this computer, <Code>{info.keyId}</Code>, kept in its keychain. Every
              backup is encrypted with it: nobody who gets hold of a backup can read it without this key.
            </Text>
            <Text size="sm" fw={600}>
              If this computer is lost or its disk dies, the key goes with it, and every backup becomes unreadable, unless you have saved a recovery kit.
            </Text>
            <List size="sm" spacing={4}>
              <List.Item>A recovery kit is a small file: the key, locked with a passphrase you keep apart from it.</List.Item>
              <List.Item>With the kit and its passphrase, PgSafe on any computer opens your backups again.</List.Item>
            </List>
            {error && <ErrorNotice error={error} />}
            <Group justify="space-between" mt="xs">
              <Button variant="subtle" onClick={() => setDialog('import')}>
                I have a kit from another computer
              </Button>
              <Group gap="xs">
                <Button variant="default" onClick={later} loading={busy}>
                  Later
                </Button>
                <Button onClick={() => setDialog('save')} data-autofocus>
                  Save a recovery kit
                </Button>
              </Group>
            </Group>
          </Stack>
        )}
      </Modal>
      <RecoveryKitDialog opened={dialog === 'save'} onClose={back} onSaved={finished} />
      <ImportKitDialog opened={dialog === 'import'} onClose={back} onImported={finished} />
    </>
  );
}
