import { Alert, Badge, Button, Group, Modal, MultiSelect, Paper, PasswordInput, Select, Stack, Table, Text, Textarea, TextInput, Title } from '@mantine/core';
import { IconPlus } from '@tabler/icons-react';
import { useState } from 'react';
import {
  addNotifier,
  listNotifiers,
  notifierEvents,
  removeNotifier,
  testNotifier,
  testNotifierForm,
  toApiError,
  type ApiError,
  type NotifierForm,
  type NotifierKind,
} from '../api';
import { ErrorNotice } from '../components/ErrorNotice';
import { useCall } from '../useCall';
import { useRowTests } from '../useRowTests';

interface Field {
  key: string;
  label: string;
  secret?: boolean;
  placeholder?: string;
  description?: string;
  multiline?: boolean;
  required?: boolean;
  /** A choice; each option's help shows under it once chosen. */
  options?: { value: string; label: string; help: string }[];
}

/** The services a heartbeat pings (backend/notify/heartbeat.go). */
const heartbeatServices = [
  { value: 'healthchecks', label: 'Healthchecks.io', help: 'Pings <URL>/start, <URL> on success and <URL>/fail with the reason.' },
  { value: 'uptime-kuma', label: 'Uptime Kuma (push)', help: 'Pushes status=up with the time taken, or status=down with the reason. Uptime Kuma has no start ping.' },
  { value: 'url', label: 'Any URL', help: 'GET <URL>?event=start or ?event=success; POST <URL>?event=failure with the reason.' },
];

/** What a notifier with no events chosen receives. */
const defaultEvents = (kind: string) => (kind === 'heartbeat' ? 'backups started, succeeded, failed' : 'failures and down/up');
const heartbeatEvents = ['backup.started', 'backup.succeeded', 'backup.failed'];

/** What each kind asks for (docs/NOTIFY.md). Secrets go to the Go side only. */
const kinds: Record<NotifierKind, { label: string; fields: Field[] }> = {
  email: {
    label: 'Email',
    fields: [
      { key: 'host', label: 'SMTP server', placeholder: 'smtp.example.com', required: true },
      { key: 'port', label: 'Port', placeholder: '587' },
      { key: 'security', label: 'Security', placeholder: 'starttls, tls or none' },
      { key: 'from', label: 'From', placeholder: 'PgSafe <pgsafe@example.com>', required: true },
      { key: 'to', label: 'To', placeholder: 'ops@example.com, me@example.com', required: true },
      { key: 'username', label: 'User name' },
      { key: 'password', label: 'Password', secret: true },
    ],
  },
  slack: { label: 'Slack', fields: [{ key: 'webhook_url', label: 'Incoming webhook URL', secret: true, required: true, placeholder: 'https://hooks.slack.com/services/…' }] },
  discord: { label: 'Discord', fields: [{ key: 'webhook_url', label: 'Channel webhook URL', secret: true, required: true, placeholder: 'https://discord.com/api/webhooks/…' }] },
  teams: { label: 'Microsoft Teams', fields: [{ key: 'webhook_url', label: 'Workflow webhook URL', secret: true, required: true }] },
  telegram: {
    label: 'Telegram',
    fields: [
      { key: 'bot_token', label: 'Bot token', secret: true, required: true },
      { key: 'chat_id', label: 'Chat ID', placeholder: '-1001234567890 or @channel', required: true },
    ],
  },
  webhook: {
    label: 'Webhook',
    fields: [
      { key: 'url', label: 'URL', secret: true, required: true, description: 'Kept encrypted: webhook URLs often hold a token' },
      { key: 'method', label: 'Method', placeholder: 'POST' },
      { key: 'headers', label: 'Headers', secret: true, multiline: true, placeholder: 'Authorization: Bearer …', description: 'One "Name: value" per line; kept encrypted' },
      { key: 'body', label: 'Body template', multiline: true, description: 'Go text/template over the event; empty: the event as JSON' },
    ],
  },
  desktop: { label: 'Desktop', fields: [] },
  heartbeat: {
    label: 'Heartbeat (healthchecks, Uptime Kuma)',
    fields: [
      { key: 'service', label: 'Service', required: true, options: heartbeatServices },
      {
        key: 'url',
        label: 'Ping URL',
        secret: true,
        required: true,
        placeholder: 'https://hc-ping.com/<ping-key>/{database}?create=1',
        description: 'Kept encrypted: it holds the check’s token. {database} becomes each database’s name, so one notifier serves them all',
      },
      { key: 'database', label: 'Only this database', placeholder: 'Shop', description: 'For a URL without {database}: one check, one database' },
    ],
  },
};

/** Who hears about failures: email, chat, webhooks, the desktop. */
export function NotificationsPage() {
  const list = useCall(listNotifiers, 'list the notifiers');
  const [adding, setAdding] = useState(false);
  const { results, test } = useRowTests(testNotifier, 'Sent ✓ — check that it arrived', 'send a test through');
  const [error, setError] = useState<ApiError | null>(null);
  const remove = async (name: string) => {
    setError(null);
    try {
      await removeNotifier(name);
      list.reload();
    } catch (e) {
      setError(toApiError(`remove ${name}`, e));
    }
  };
  const rows = list.state.data ?? [];
  return (
    <Stack gap="lg">
      <Group justify="space-between">
        <Title order={1} size="h3">
          Notifications
        </Title>
        <Button leftSection={<IconPlus size={16} />} variant="light" onClick={() => setAdding(true)}>
          Add notifier
        </Button>
      </Group>
      <Text size="sm" c="dimmed">
        Failed backups, failed verifications and drills, and databases going down or coming back are sent to every notifier below (successes only where you ask). The desktop
        shows failures even without one. A heartbeat pings a monitoring service at each backup's start and end, so you hear when backups stop happening at all.
      </Text>
      {list.state.error && <ErrorNotice error={list.state.error} onRetry={list.reload} />}
      {error && <ErrorNotice error={error} />}
      <Paper withBorder radius="md" p="md">
        {rows.length === 0 ? (
          <Text size="sm" c="dimmed">
            No notifier yet. Add an email address or a chat channel so a failed backup at 3 a.m. reaches someone.
          </Text>
        ) : (
          <Table verticalSpacing="sm" data-testid="notifiers-table">
            <Table.Tbody>
              {rows.map((n) => {
                const r = results[n.name];
                return (
                  <Table.Tr key={n.id} data-testid="notifier-row" data-name={n.name}>
                    <Table.Td>
                      <Text fw={600} size="sm">
                        {n.name}
                      </Text>
                      <Text size="xs" c="dimmed">
                        {kinds[n.kind as NotifierKind]?.label ?? n.kind}
                        {n.secretsSet.length > 0 ? ` · ${n.secretsSet.join(', ')} set ✓` : ''}
                        {n.settings.service ? ` · ${n.settings.service}` : ''}
                        {n.settings.database ? ` · ${n.settings.database} only` : ''}
                        {n.events.length > 0 ? ` · ${n.events.join(', ')}` : ` · ${defaultEvents(n.kind)}`}
                      </Text>
                      {r && r !== 'running' && (
                        <Text size="sm" c={r.ok ? 'green' : 'red'} data-testid="notifier-test-result" className="selectable">
                          {r.text}
                        </Text>
                      )}
                    </Table.Td>
                    <Table.Td w={220}>
                      <Group gap="xs" justify="flex-end" wrap="nowrap">
                        <Button size="xs" variant="default" loading={r === 'running'} onClick={() => test(n.name)}>
                          Send test
                        </Button>
                        <Button size="xs" variant="subtle" color="red" onClick={() => remove(n.name)}>
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
      <AddNotifierDialog
        opened={adding}
        onClose={() => setAdding(false)}
        onAdded={() => {
          setAdding(false);
          list.reload();
        }}
      />
    </Stack>
  );
}

function AddNotifierDialog({ opened, onClose, onAdded }: { opened: boolean; onClose: () => void; onAdded: () => void }) {
  const events = useCall(notifierEvents, 'list the notification events');
  const [kind, setKind] = useState<NotifierKind>('email');
  const [name, setName] = useState('');
  const [values, setValues] = useState<Record<string, string>>({});
  const [chosen, setChosen] = useState<string[]>([]);
  const [state, setState] = useState<'idle' | 'testing' | 'saving'>('idle');
  const [tested, setTested] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);
  const spec = kinds[kind];
  const form = (): NotifierForm => {
    const settings: Record<string, string> = {};
    const secrets: Record<string, string> = {};
    for (const f of spec.fields) if (values[f.key]) (f.secret ? secrets : settings)[f.key] = values[f.key];
    return { name: name.trim(), kind, events: chosen, settings, secrets };
  };
  const ready = name.trim() !== '' && spec.fields.every((f) => !f.required || (values[f.key] ?? '').trim() !== '');
  const run = async (what: 'testing' | 'saving') => {
    setState(what);
    setError(null);
    try {
      if (what === 'testing') {
        await testNotifierForm(form());
        setTested(true);
      } else {
        await addNotifier(form());
        setValues({});
        setName('');
        setTested(false);
        onAdded();
      }
    } catch (e) {
      setError(toApiError(what === 'testing' ? 'send a test notification' : 'save the notifier', e));
    } finally {
      setState('idle');
    }
  };
  return (
    <Modal opened={opened} onClose={onClose} title="Add a notifier" size="lg">
      <Stack gap="sm">
        <Select
          label="Kind"
          data={Object.entries(kinds).map(([value, k]) => ({ value, label: k.label }))}
          value={kind}
          onChange={(v) => {
            setKind((v as NotifierKind) ?? 'email');
            setValues({});
            setChosen([]);
            setTested(false);
          }}
          allowDeselect={false}
        />
        <TextInput label="Name" placeholder="ops team" value={name} onChange={(e) => setName(e.currentTarget.value)} />
        {spec.fields.map((f) => {
          const key = `${kind}-${f.key}`;
          const common = {
            label: f.label,
            description: f.description,
            placeholder: f.placeholder,
            value: values[f.key] ?? '',
            withAsterisk: f.required,
            autoComplete: 'off',
            onChange: (e: { currentTarget: { value: string } }) => {
              const v = e.currentTarget.value;
              setValues((old) => ({ ...old, [f.key]: v }));
              setTested(false);
            },
          };
          if (f.options) {
            const chosen = f.options.find((o) => o.value === values[f.key]);
            return (
              <Select
                key={key}
                label={f.label}
                withAsterisk={f.required}
                data={f.options.map(({ value, label }) => ({ value, label }))}
                value={values[f.key] ?? null}
                onChange={(v) => {
                  setValues((old) => ({ ...old, [f.key]: v ?? '' }));
                  setTested(false);
                }}
                description={chosen?.help ?? 'Choose the service that gave you the URL'}
                data-testid={`field-${f.key}`}
              />
            );
          }
          if (f.multiline) return <Textarea key={key} {...common} autosize minRows={2} />;
          return f.secret ? <PasswordInput key={key} {...common} /> : <TextInput key={key} {...common} />;
        })}
        <MultiSelect
          label="Events"
          description={kind === 'heartbeat' ? 'Empty: backups started, succeeded and failed' : 'Empty: failures, verification and drill failures, database down/up'}
          data={(events.state.data ?? []).filter((e) => kind !== 'heartbeat' || heartbeatEvents.includes(e.kind)).map((e) => ({ value: e.kind, label: e.label }))}
          value={chosen}
          onChange={setChosen}
          placeholder="The defaults"
        />
        {error && <ErrorNotice error={error} />}
        {tested && (
          <Alert color="green" variant="light" data-testid="notifier-form-tested">
            Test sent ✓ — check that it arrived, then save.
          </Alert>
        )}
        <Group justify="flex-end">
          <Button variant="default" onClick={onClose}>
            Cancel
          </Button>
          <Button variant="light" onClick={() => run('testing')} loading={state === 'testing'} disabled={!ready}>
            Send test
          </Button>
          <Button onClick={() => run('saving')} loading={state === 'saving'} disabled={!ready}>
            Save
          </Button>
        </Group>
        <Badge variant="transparent" c="dimmed" tt="none" px={0}>
          Secrets are kept encrypted and never shown again.
        </Badge>
      </Stack>
    </Modal>
  );
}
