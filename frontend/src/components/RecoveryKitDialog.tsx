import { Alert, Button, Code, Group, Modal, Stack, Text, TextInput } from '@mantine/core';
import { IconCheck, IconCopy } from '@tabler/icons-react';
import { useEffect, useState } from 'react';
import { chooseKitSaveFile, copyText, exportRecoveryKit, recoveryKit, toApiError, type ApiError, type ExportedKit } from '../api';
import { ErrorNotice } from './ErrorNotice';
import { PassphraseChooser } from './PassphraseChooser';

/**
 * Save a recovery kit: a passphrase (generated or the user's own), where
 * the file goes (typed, or the system's save dialog), then the kit's text
 * to print. The passphrase is dropped when the dialog closes.
 */
export function RecoveryKitDialog({ opened, onClose, onSaved }: { opened: boolean; onClose: () => void; onSaved?: (k: ExportedKit) => void }) {
  const [step, setStep] = useState<'passphrase' | 'file' | 'done'>('passphrase');
  const [passphrase, setPassphrase] = useState('');
  const [path, setPath] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);
  const [saved, setSaved] = useState<ExportedKit | null>(null);

  useEffect(() => {
    if (!opened) return;
    setStep('passphrase');
    setPassphrase('');
    setSaved(null);
    setError(null);
    recoveryKit().then(
      (k) => setPath(k.defaultPath),
      (e) => setError(toApiError('read the recovery kit’s status', e)),
    );
  }, [opened]);

  const close = () => {
    setPassphrase('');
    onClose();
  };
  const browse = async () => {
    try {
      const p = await chooseKitSaveFile(path);
      if (p) setPath(p);
    } catch (e) {
      setError(toApiError('open the file chooser', e));
    }
  };
  const save = async () => {
    setBusy(true);
    setError(null);
    try {
      const k = await exportRecoveryKit(passphrase, path);
      setPassphrase('');
      setSaved(k);
      setStep('done');
      onSaved?.(k);
    } catch (e) {
      setError(toApiError('save the recovery kit', e));
    } finally {
      setBusy(false);
    }
  };

  return (
    <Modal opened={opened} onClose={close} title="Save a recovery kit" size="lg" closeOnClickOutside={step !== 'passphrase'}>
      <Stack gap="sm">
        {/* Kept mounted on the next step: Back shows the same words. */}
        <Stack gap="sm" display={step === 'passphrase' ? undefined : 'none'}>
          <Text size="sm">
            The kit is your master key locked with a passphrase. With both, any computer with PgSafe opens your backups; anyone who finds the kit still needs the
            passphrase.
          </Text>
          {step !== 'done' && <PassphraseChooser onChange={setPassphrase} />}
        </Stack>
        {step === 'passphrase' && (
          <>
            <Group justify="flex-end">
              <Button variant="default" onClick={close}>
                Cancel
              </Button>
              <Button onClick={() => setStep('file')} disabled={!passphrase}>
                Next
              </Button>
            </Group>
          </>
        )}
        {step === 'file' && (
          <>
            <Text size="sm">
              Where should the kit go? Somewhere that survives this computer: a USB stick, a password manager, a printout. A copy on this computer alone does not
              help if it is lost.
            </Text>
            <Group align="end" wrap="nowrap">
              <TextInput label="Kit file" value={path} onChange={(e) => setPath(e.currentTarget.value)} style={{ flex: 1 }} spellCheck={false} data-autofocus />
              <Button variant="default" onClick={browse}>
                Browse…
              </Button>
            </Group>
            {error && <ErrorNotice error={error} />}
            <Group justify="flex-end">
              <Button variant="default" onClick={() => setStep('passphrase')} disabled={busy}>
                Back
              </Button>
              <Button onClick={save} loading={busy} disabled={!path.trim()}>
                Save
              </Button>
            </Group>
          </>
        )}
        {step === 'done' && saved && <KitSaved kit={saved} onDone={close} />}
        {step === 'passphrase' && error && <ErrorNotice error={error} />}
      </Stack>
    </Modal>
  );
}

/** The kit was written: where, and its text to print. */
function KitSaved({ kit, onDone }: { kit: ExportedKit; onDone: () => void }) {
  const [copied, setCopied] = useState(false);
  return (
    <Stack gap="sm" data-testid="kit-saved">
      <Alert color="green" variant="light" title="Recovery kit saved" icon={<IconCheck size={18} />}>
        <Text size="sm" className="selectable">
          The kit of key <Code>{kit.keyId}</Code> is in <Code>{kit.path}</Code>.
        </Text>
      </Alert>
      <Text size="sm">
        Print this text or keep it in a password manager, away from this computer; keep the passphrase apart from it. Its lines can be typed back if the file is
        lost.
      </Text>
      <Code block className="selectable" fz="xs" data-testid="kit-text" style={{ whiteSpace: 'pre-wrap' }}>
        {kit.text}
      </Code>
      <Group justify="flex-end">
        <Button variant="default" leftSection={copied ? <IconCheck size={14} /> : <IconCopy size={14} />} onClick={async () => setCopied(await copyText(kit.text))}>
          {copied ? 'Copied' : 'Copy the text'}
        </Button>
        <Button onClick={onDone}>Done</Button>
      </Group>
    </Stack>
  );
}
