import { Badge, Button, Code, Group, Paper, PasswordInput, Skeleton, Stack, Text, TextInput, Title } from '@mantine/core';
import { useEffect, useState } from 'react';
import { clearOAuthClient, cloudNames, oauthClients, setOAuthClient, toApiError, type ApiError, type CloudKind, type OAuthClient } from '../api';
import { UnsavedHint, useUnsavedChanges } from '../unsaved';
import { useCall } from '../useCall';
import { ErrorNotice } from './ErrorNotice';

/**
 * Settings → Cloud drives: for Google Drive, Dropbox and OneDrive, whether
 * this build has an OAuth client, and the user's own (client ID, and a
 * secret where the service's clients have one). The secret is never shown
 * again, only "saved". A client saved here is used by the next sign-in.
 */
export function CloudDrivesPanel() {
  const clients = useCall(oauthClients, 'read the cloud drives’ OAuth clients');
  return (
    <Paper withBorder radius="md" p="lg" component="section" aria-labelledby="cloud-title">
      <Title order={2} size="h5" id="cloud-title" mb={4}>
        Cloud drives
      </Title>
      <Text size="sm" c="dimmed" mb="md" maw={620}>
        PgSafe signs in to Google Drive, Dropbox and OneDrive with an OAuth client: this PgSafe’s, or your own, registered in your developer account. A client
        saved here is used by the next sign-in; storages already signed in keep the client they signed in with.
      </Text>
      {clients.state.status === 'error' && !clients.state.data ? (
        <ErrorNotice error={clients.state.error} onRetry={clients.reload} />
      ) : !clients.state.data ? (
        <Skeleton h={120} />
      ) : (
        <Stack gap="lg">
          {clients.state.data.map((c) => (
            <ClientRow key={c.kind} client={c} onSaved={clients.reload} />
          ))}
        </Stack>
      )}
    </Paper>
  );
}

function ClientRow({ client: c, onSaved }: { client: OAuthClient; onSaved: () => void }) {
  const kind = c.kind as CloudKind;
  const { service, company } = cloudNames[kind] ?? { service: c.service, company: c.service };
  const [id, setId] = useState(c.clientId);
  const [secret, setSecret] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);
  useEffect(() => setId(c.clientId), [c.clientId]);
  const dirty = id.trim() !== c.clientId || secret.trim() !== '';
  useUnsavedChanges(dirty, `Cloud drives (${service} client, not saved)`);
  const run = async (action: string, fn: () => Promise<unknown>) => {
    setBusy(true);
    setError(null);
    try {
      await fn();
      setSecret('');
      onSaved();
    } catch (e) {
      setError(toApiError(action, e));
    } finally {
      setBusy(false);
    }
  };
  const own = c.clientId !== '';
  return (
    <Stack gap={6} data-testid="oauth-client" data-kind={c.kind}>
      <Group gap="xs">
        <Text fw={600} size="sm">
          {service}
        </Text>
        {c.builtIn ? (
          <Badge size="sm" variant="light" color="green">
            Built in
          </Badge>
        ) : (
          <Badge size="sm" variant="light" color="gray">
            None in this build
          </Badge>
        )}
        {own && (
          <Badge size="sm" variant="light" color="blue">
            Your own
          </Badge>
        )}
      </Group>
      <Text size="sm" data-testid="oauth-client-status">
        {own ? (
          <>
            Signs in with your own client <Code>{c.clientId}</Code>
            {c.takesSecret && (c.secretSet ? ' (secret saved ✓)' : ' (no secret)')}.
          </>
        ) : c.builtIn ? (
          <>Signs in with this PgSafe’s client. Enter your own only to use a client of your {company} account.</>
        ) : (
          <>To sign in to {service}, enter your own client below: this PgSafe has none.</>
        )}
      </Text>
      <Group align="end" gap="sm">
        <TextInput
          label={`${service} client ID`}
          placeholder={kind === 'gdrive' ? '123-abc.apps.googleusercontent.com' : 'Client (application) ID'}
          value={id}
          onChange={(e) => setId(e.currentTarget.value)}
          autoComplete="off"
          spellCheck={false}
          style={{ flex: 3, minWidth: 200 }}
        />
        {c.takesSecret && (
          <PasswordInput
            label={`${service} client secret`}
            placeholder={c.secretSet ? 'Saved ✓' : kind === 'onedrive' ? 'If your client has one' : 'Client secret'}
            value={secret}
            onChange={(e) => setSecret(e.currentTarget.value)}
            autoComplete="off"
            style={{ flex: 2, minWidth: 170 }}
          />
        )}
        <Button onClick={() => run(`save your own ${service} client`, () => setOAuthClient(kind, id.trim(), secret.trim()))} loading={busy} disabled={!dirty || id.trim() === ''}>
          Save
        </Button>
        {own && (
          <Button variant="default" onClick={() => run(`clear your own ${service} client`, () => clearOAuthClient(kind))} disabled={busy}>
            Clear
          </Button>
        )}
      </Group>
      <UnsavedHint show={dirty} />
      {error && <ErrorNotice error={error} />}
    </Stack>
  );
}
