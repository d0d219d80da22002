import { Alert, Anchor, Button, Group, Loader, Stack, Text, TextInput } from '@mantine/core';
import { useRef, useState } from 'react';
import { cloudNames, oauthClients, startCloudSignIn, toApiError, type ApiError, type CloudKind, type SignIn } from '../api';
import { useCall } from '../useCall';
import { ErrorNotice } from './ErrorNotice';

/**
 * A cloud drive in the Add storage dialog: its folder, and "Sign in with
 * Google" (Dropbox, Microsoft), which opens the provider's page in the system
 * browser and waits — with Cancel — until the storage is signed in, tested
 * and saved. No password is typed here. The OAuth client is the user's own
 * from Settings → Cloud drives, else this build's; with neither, it says so
 * and links there (onOpenSettings) instead of offering a sign-in that fails.
 */
export function CloudSignIn({
  kind,
  name,
  onAdded,
  onCancel,
  onOpenSettings,
}: {
  kind: CloudKind;
  name: string;
  onAdded: () => void;
  onCancel: () => void;
  onOpenSettings?: () => void;
}) {
  const { service, company } = cloudNames[kind];
  const clients = useCall(oauthClients, 'read the cloud drives’ OAuth clients');
  const client = clients.state.data?.find((c) => c.kind === kind);
  const noClient = client !== undefined && !client.builtIn && client.clientId === '';
  const [folder, setFolder] = useState('');
  const [waiting, setWaiting] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);
  const current = useRef<SignIn | null>(null);
  const cancelled = useRef(false);
  const start = async () => {
    setError(null);
    cancelled.current = false;
    setWaiting(true);
    try {
      const s = await startCloudSignIn({ name, kind, folder });
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
      {noClient ? (
        <Alert variant="light" color="yellow" data-testid="signin-no-client">
          This PgSafe was built without a {service} client ID. Enter your own OAuth client in Settings, under Cloud drives, then sign in here.
          {onOpenSettings && (
            <>
              {' '}
              <Anchor component="button" type="button" size="sm" onClick={onOpenSettings}>
                Open Settings
              </Anchor>
            </>
          )}
        </Alert>
      ) : (
        <Text size="xs" c="dimmed">
          You sign in on {company}’s own page, in your browser: PgSafe never sees your password, only a permission to use this folder, kept encrypted.
          {client?.clientId ? ` It signs in with your own client (${client.clientId}), from Settings.` : ''}
        </Text>
      )}
      {clients.state.status === 'error' && <ErrorNotice error={clients.state.error} onRetry={clients.reload} />}
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
        <Button onClick={start} loading={waiting} disabled={name.trim() === '' || noClient}>
          Sign in with {company}
        </Button>
      </Group>
    </Stack>
  );
}
