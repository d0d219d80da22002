import { Alert, Button, Group, Loader, Stack, Text, TextInput } from '@mantine/core';
import { useRef, useState } from 'react';
import { cloudNames, startCloudSignIn, toApiError, type ApiError, type CloudKind, type SignIn } from '../api';
import { ErrorNotice } from './ErrorNotice';

/**
 * A cloud drive in the Add storage dialog: its folder, and "Sign in with
 * Google" (Dropbox, Microsoft), which opens the provider's page in the system
 * browser and waits — with Cancel — until the storage is signed in, tested
 * and saved. No password is typed here.
 */
export function CloudSignIn({ kind, name, onAdded, onCancel }: { kind: CloudKind; name: string; onAdded: () => void; onCancel: () => void }) {
  const { service, company } = cloudNames[kind];
  const [folder, setFolder] = useState('');
  const [clientId, setClientId] = useState('');
  const [own, setOwn] = useState(false);
  const [waiting, setWaiting] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);
  const current = useRef<SignIn | null>(null);
  const cancelled = useRef(false);
  const start = async () => {
    setError(null);
    cancelled.current = false;
    setWaiting(true);
    try {
      const s = await startCloudSignIn({ name, kind, folder, clientId });
      current.current = s;
      await s.done;
      onAdded();
    } catch (e) {
      if (!cancelled.current) setError(toApiError(`sign in to ${service}`, e));
    } finally {
      current.current = null;
      setWaiting(false);
    }
  };
  const cancel = () => {
    cancelled.current = true;
    current.current?.cancel();
  };
  return (
    <Stack gap="sm">
      <TextInput
        label={`Folder in your ${service}`}
        description="Created if it does not exist"
        placeholder="PgSafe"
        value={folder}
        onChange={(e) => setFolder(e.currentTarget.value)}
        disabled={waiting}
      />
      {own ? (
        <TextInput
          label="Your own OAuth client ID"
          description={`From your ${company} developer account; leave empty to use this PgSafe’s`}
          value={clientId}
          onChange={(e) => setClientId(e.currentTarget.value)}
          disabled={waiting}
        />
      ) : (
        <Text size="xs" c="dimmed">
          You sign in on {company}’s own page, in your browser: PgSafe never sees your password, only a permission to use this folder, kept encrypted.{' '}
          <Text span size="xs" c="blue" style={{ cursor: 'pointer' }} onClick={() => setOwn(true)}>
            Use my own client ID…
          </Text>
        </Text>
      )}
      {waiting && (
        <Alert variant="light" color="blue" icon={<Loader size="xs" />} data-testid="signin-waiting">
          Waiting for you to sign in to {company} in your browser and allow PgSafe… Then PgSafe tests the folder with a small file.
        </Alert>
      )}
      {error && <ErrorNotice error={error} />}
      <Group justify="flex-end">
        <Button variant="default" onClick={waiting ? cancel : onCancel}>
          Cancel
        </Button>
        <Button onClick={start} loading={waiting} disabled={name.trim() === ''}>
          Sign in with {company}
        </Button>
      </Group>
    </Stack>
  );
}
