// The connection step and audit pieces shared by the Add database wizard and
// the Edit connection dialog: the fields (or a pasted URL), the SSH bastion,
// "Connecting to host:port…", what the server said, and the offer of a
// dedicated read-only role.
import { Alert, Button, Checkbox, Code, Group, Loader, NumberInput, PasswordInput, SegmentedControl, Select, Stack, Text, TextInput } from '@mantine/core';
import { useState, type ReactNode } from 'react';
import { formatBytes, planRoleSetup, sshHostKey, type ApiError, type CheckResult, type DatabaseForm, type RolePlan, type SSHForm } from '../api';
import { ErrorNotice } from './ErrorNotice';

export const emptySSH: SSHForm = { host: '', port: 22, user: '', password: '', keyPath: '', keyPassphrase: '', hostKey: '' };

/** How the connection is given: fields, a pasted URL, or a credentials command that prints it at each use. */
export type ConnectionMode = 'fields' | 'url' | 'command';

/** Which credentials commands are stored (an edit): an empty command field then keeps it. */
export interface StoredCommands {
  url: boolean;
  password: boolean;
}

export interface ConnectionFormState {
  mode: ConnectionMode;
  setMode: (m: ConnectionMode) => void;
  form: DatabaseForm;
  setForm: (f: DatabaseForm) => void;
  useSSH: boolean;
  setUseSSH: (on: boolean) => void;
  ssh: SSHForm;
  setSSH: (s: SSHForm) => void;
  /** Back to these values (and the fields mode, or the command mode when a URL command is stored). */
  reset: (f: DatabaseForm, ssh?: SSHForm | null, stored?: StoredCommands) => void;
  stored: StoredCommands;
  /** What goes to the Go side: the URL or the fields, and the bastion if used. */
  payload: () => DatabaseForm;
  /** Enough is filled in to test the connection. */
  complete: boolean;
}

const noCommands: StoredCommands = { url: false, password: false };

export function useConnectionForm(initial: DatabaseForm): ConnectionFormState {
  const [mode, setMode] = useState<ConnectionMode>('fields');
  const [form, setForm] = useState<DatabaseForm>(initial);
  const [useSSH, setUseSSH] = useState(false);
  const [ssh, setSSH] = useState<SSHForm>(emptySSH);
  const [stored, setStored] = useState<StoredCommands>(noCommands);
  const pwCommandReady = !form.usePasswordCommand || form.passwordCommand.trim() !== '' || stored.password;
  return {
    mode,
    setMode,
    form,
    setForm,
    useSSH,
    setUseSSH,
    ssh,
    setSSH,
    stored,
    reset: (f, s, cmds) => {
      setMode(cmds?.url ? 'command' : 'fields');
      setForm(f);
      setUseSSH(!!s);
      setSSH(s ?? emptySSH);
      setStored(cmds ?? noCommands);
    },
    payload: () => {
      const none = { host: '', port: 0, dbname: '', user: '', password: '', importRef: '' };
      const base =
        mode === 'command'
          ? { ...form, ...none, url: '', useUrlCommand: true, usePasswordCommand: false, passwordCommand: '' }
          : mode === 'url'
            ? { ...form, ...none, useUrlCommand: false, urlCommand: '' }
            : { ...form, url: '', useUrlCommand: false, urlCommand: '' };
      if (!base.usePasswordCommand) base.passwordCommand = '';
      else base.password = '';
      return { ...base, ssh: useSSH ? ssh : null };
    },
    complete:
      (mode === 'command'
        ? form.urlCommand.trim() !== '' || stored.url
        : (mode === 'url' ? form.url.trim() !== '' : form.host !== '' && form.dbname !== '' && form.user !== '') && pwCommandReady) &&
      (!useSSH || ssh.hostKey !== ''),
  };
}

/** The parts of a postgres:// URL the window shows; null when it is not one. */
export interface ParsedURL {
  host: string;
  port: number;
  dbname: string;
  user: string;
  hasPassword: boolean;
  password: string;
  sslmode: string;
}

const urlPattern = /^postgres(?:ql)?:\/\/(?:([^:@/?#]*)(?::([^@/?#]*))?@)?(\[[^\]]*\]|[^:/?#]*)(?::(\d+))?(?:\/([^?#]*))?(?:\?([^#]*))?$/;

export function parseConnectionUrl(url: string): ParsedURL | null {
  const m = urlPattern.exec(url.trim());
  if (!m) return null;
  const dec = (s: string | undefined) => {
    try {
      return decodeURIComponent(s ?? '');
    } catch {
      return s ?? '';
    }
  };
  const params = new URLSearchParams(m[6] ?? '');
  return {
    user: dec(m[1]),
    password: dec(m[2]),
    hasPassword: (m[2] ?? '') !== '',
    host: dec(m[3]).replace(/^\[|\]$/g, '') || 'localhost',
    port: m[4] ? Number(m[4]) : 5432,
    dbname: dec(m[5]),
    sslmode: params.get('sslmode') ?? '',
  };
}

interface FieldsProps {
  c: ConnectionFormState;
  /** The password field's placeholder (e.g. “leave empty to keep the stored password”). */
  passwordPlaceholder?: string;
  /** What the password field says beneath it. */
  passwordDescription?: string;
  /** Shown above the fields in the fields mode (the wizard's import). */
  extra?: ReactNode;
}

/** The connection's fields, or a pasted URL, and the optional SSH bastion. */
export function ConnectionFields({ c, passwordPlaceholder, passwordDescription, extra }: FieldsProps) {
  const { form, setForm, ssh, setSSH } = c;
  const parsed = c.mode === 'url' ? parseConnectionUrl(form.url) : null;
  const pasteURL = (url: string) => {
    const p = parseConnectionUrl(url);
    // A postgres:// URL fills the fields too, so switching to Fields shows them.
    setForm(
      p
        ? { ...form, url, host: p.host, port: p.port, dbname: p.dbname, user: p.user, password: p.password, sslmode: p.sslmode || form.sslmode, importRef: '' }
        : { ...form, url },
    );
  };
  return (
    <Stack gap="sm">
      {c.mode === 'fields' && extra}
      <SegmentedControl
        value={c.mode}
        onChange={(v) => c.setMode(v as ConnectionMode)}
        data={[
          { value: 'fields', label: 'Fields' },
          { value: 'url', label: 'Paste a URL' },
          { value: 'command', label: 'From a command' },
        ]}
      />
      {c.mode === 'command' ? (
        <>
          <PasswordInput
            label="Command that prints the connection"
            description="Run before every connection (backups, health checks, privilege checks); it prints a postgres:// URL or host=… dbname=… settings, used for that connection only and never stored. No shell: for pipes write sh -c '…'. Stored sealed like a password, never shown again."
            placeholder={c.stored.url ? 'set ✓ — leave empty to keep it, or type a new one to replace it' : 'heroku pg:credentials:url DATABASE -a my-app'}
            value={form.urlCommand}
            onChange={(e) => setForm({ ...form, urlCommand: e.currentTarget.value })}
            data-testid="url-command"
          />
          {c.stored.url && (
            <Text size="sm" c="teal" data-testid="url-command-set">
              A command is set ✓ — it is never shown; type a new one to replace it.
            </Text>
          )}
        </>
      ) : c.mode === 'url' ? (
        <>
          <PasswordInput
            label="Connection URL"
            description="postgres://user:password@host:5432/dbname or host=… dbname=… (it may hold the password; it is stored sealed, never shown again)"
            value={form.url}
            onChange={(e) => pasteURL(e.currentTarget.value)}
          />
          {parsed && (
            <Text size="sm" data-testid="url-summary" className="selectable">
              Host <b>{parsed.host}:{parsed.port}</b> · database <b>{parsed.dbname || '(the user’s own)'}</b>
              {parsed.user ? ` · user ${parsed.user}` : ''} · password {parsed.hasPassword ? '••••••' : passwordPlaceholder ? 'kept' : 'none'}
            </Text>
          )}
        </>
      ) : (
        <>
          <Group grow>
            <TextInput label="Host" value={form.host} onChange={(e) => setForm({ ...form, host: e.currentTarget.value })} />
            <NumberInput label="Port" value={form.port} onChange={(v) => setForm({ ...form, port: Number(v) || 5432 })} maw={120} />
          </Group>
          <Group grow>
            <TextInput label="Database" value={form.dbname} onChange={(e) => setForm({ ...form, dbname: e.currentTarget.value })} />
            <TextInput label="User" value={form.user} onChange={(e) => setForm({ ...form, user: e.currentTarget.value })} />
          </Group>
          <Group grow align="flex-start">
            {form.usePasswordCommand ? (
              <Text size="sm" c="dimmed" pt="lg">
                The password comes from the command below.
              </Text>
            ) : (
              <PasswordInput
                label="Password"
                placeholder={form.importRef ? 'from your saved connection' : passwordPlaceholder}
                description={passwordDescription}
                value={form.password}
                onChange={(e) => setForm({ ...form, password: e.currentTarget.value })}
              />
            )}
            <Select
              label="SSL"
              data={['disable', 'allow', 'prefer', 'require', 'verify-ca', 'verify-full']}
              value={form.sslmode}
              onChange={(v) => setForm({ ...form, sslmode: v ?? 'prefer' })}
              allowDeselect={false}
            />
          </Group>
          {form.sslmode !== 'disable' && (
            <Group grow>
              <TextInput
                label="CA certificate file"
                description={form.sslmode.startsWith('verify') ? 'checks the server’s certificate' : 'optional'}
                value={form.sslRootCert}
                onChange={(e) => setForm({ ...form, sslRootCert: e.currentTarget.value })}
              />
              <TextInput label="Client certificate" description="optional" value={form.sslCert} onChange={(e) => setForm({ ...form, sslCert: e.currentTarget.value })} />
              <TextInput label="Client key" description="optional" value={form.sslKey} onChange={(e) => setForm({ ...form, sslKey: e.currentTarget.value })} />
            </Group>
          )}
        </>
      )}
      {c.mode !== 'command' && <PasswordCommandField c={c} />}
      <Checkbox label="Connect through an SSH bastion" checked={c.useSSH} onChange={(e) => c.setUseSSH(e.currentTarget.checked)} />
      {c.useSSH && <SSHFields ssh={ssh} setSSH={setSSH} keepSecrets={!!passwordPlaceholder} />}
    </Stack>
  );
}

/** “Get the password from a command”: 1Password, Vault, a cloud's IAM token, run before each connection. */
function PasswordCommandField({ c }: { c: ConnectionFormState }) {
  const { form, setForm } = c;
  return (
    <>
      <Checkbox
        label="Read the secret from a command at each connection (op, Vault, an IAM token)"
        checked={form.usePasswordCommand}
        onChange={(e) => setForm({ ...form, usePasswordCommand: e.currentTarget.checked })}
      />
      {form.usePasswordCommand && (
        <PasswordInput
          pl="md"
          label="Command that prints the password"
          description="Run before every connection; what it prints is used for that connection only. No shell: for pipes write sh -c '…'. Stored sealed, never shown again."
          placeholder={c.stored.password ? 'set ✓ — leave empty to keep it, or type a new one to replace it' : 'op read op://Private/db/password'}
          value={form.passwordCommand}
          onChange={(e) => setForm({ ...form, passwordCommand: e.currentTarget.value })}
          data-testid="password-command"
        />
      )}
    </>
  );
}

function SSHFields({ ssh, setSSH, keepSecrets }: { ssh: SSHForm; setSSH: (s: SSHForm) => void; keepSecrets: boolean }) {
  const [hostKey, setHostKey] = useState<{ fingerprint: string; key: string } | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);
  const checkHostKey = async () => {
    setBusy(true);
    setError(null);
    try {
      setHostKey(await sshHostKey({ ...ssh, hostKey: '' }));
    } catch (e) {
      setError(e as ApiError);
    } finally {
      setBusy(false);
    }
  };
  return (
    <Stack gap="xs" pl="md" data-testid="ssh-section">
      <Text size="xs" c="dimmed">
        The database host and port above are as the bastion sees them. PgSafe connects to the bastion, checks its host key, and forwards
        the connection — also for every backup.
      </Text>
      <Group grow>
        <TextInput label="SSH host" value={ssh.host} onChange={(e) => setSSH({ ...ssh, host: e.currentTarget.value, hostKey: '' })} />
        <NumberInput label="SSH port" value={ssh.port} onChange={(v) => setSSH({ ...ssh, port: Number(v) || 22, hostKey: '' })} maw={120} />
        <TextInput label="SSH user" value={ssh.user} onChange={(e) => setSSH({ ...ssh, user: e.currentTarget.value })} />
      </Group>
      <Group grow>
        <TextInput label="Private key file" placeholder="~/.ssh/id_ed25519" value={ssh.keyPath} onChange={(e) => setSSH({ ...ssh, keyPath: e.currentTarget.value })} />
        <PasswordInput
          label={ssh.keyPath ? 'Key passphrase (if any)' : 'SSH password'}
          placeholder={keepSecrets ? 'leave empty to keep the stored one' : undefined}
          value={ssh.keyPath ? ssh.keyPassphrase : ssh.password}
          onChange={(e) => setSSH(ssh.keyPath ? { ...ssh, keyPassphrase: e.currentTarget.value } : { ...ssh, password: e.currentTarget.value })}
        />
      </Group>
      {ssh.hostKey ? (
        <Text size="sm" c="teal" data-testid="ssh-trusted">
          Host key trusted{hostKey ? `: ${hostKey.fingerprint}` : ''}
        </Text>
      ) : hostKey ? (
        <Alert color="yellow" variant="light" title="Check this fingerprint with the server’s administrator">
          <Code className="selectable">{hostKey.fingerprint}</Code>
          <Group mt="xs">
            <Button size="xs" onClick={() => setSSH({ ...ssh, hostKey: hostKey.key })}>
              It matches: trust this key
            </Button>
          </Group>
        </Alert>
      ) : (
        <Group>
          <Button size="xs" variant="default" onClick={checkHostKey} disabled={!ssh.host || !ssh.user} loading={busy}>
            Check the bastion’s host key
          </Button>
        </Group>
      )}
      {error && <ErrorNotice error={error} />}
    </Stack>
  );
}

/** Where a check connects to, as the window says it: host:port. */
export function connectTarget(f: DatabaseForm, mode: ConnectionMode): string {
  if (mode === 'command') return 'the server the command names';
  if (mode === 'url') {
    const p = parseConnectionUrl(f.url);
    return p ? `${p.host}:${p.port}` : 'the server';
  }
  return `${f.host || 'localhost'}:${f.port || 5432}`;
}

/** “Connecting to host:port…” while a check runs, with Cancel when it can be stopped. */
export function ConnectingNotice({ target, onCancel }: { target: string; onCancel?: () => void }) {
  return (
    <Alert color="blue" variant="light" data-testid="connecting" role="status">
      <Group justify="space-between" wrap="nowrap">
        <Group gap="xs" wrap="nowrap">
          <Loader size="xs" />
          <Text size="sm">Connecting to {target}…</Text>
        </Group>
        {onCancel && (
          <Button size="xs" variant="default" onClick={onCancel}>
            Cancel
          </Button>
        )}
      </Group>
    </Alert>
  );
}

/** What the server said when PgSafe connected. */
export function ServerSummary({ check }: { check: CheckResult }) {
  const s = check.server;
  return (
    <Text size="sm" data-testid="server-info">
      Connected to PostgreSQL {s.version}, database {s.database} ({formatBytes(s.database_size)}, {s.encoding}), {Math.max(1, Math.round(s.latency / 1e6))} ms
      away{s.ssl ? ', encrypted' : ''}.
    </Text>
  );
}

interface RoleOfferProps {
  /** The button that creates the role and uses it. */
  actionLabel: string;
  onCreate: (adminUrl: string, role: string) => Promise<void>;
  busy: boolean;
}

/** The recommended way out of a role that can write: a dedicated read-only role, made with an admin URL used once. */
export function ReadOnlyRoleOffer({ actionLabel, onCreate, busy }: RoleOfferProps) {
  const [adminUrl, setAdminUrl] = useState('');
  const [role, setRole] = useState('pgsafe_backup');
  const [plan, setPlan] = useState<RolePlan | null>(null);
  const [planning, setPlanning] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);
  const showSQL = async () => {
    setPlanning(true);
    setError(null);
    try {
      setPlan(await planRoleSetup({ adminUrl, role, saveAs: '', storages: [], perSchema: false, revokePublicTemp: false, revokePublicCreate: false }));
    } catch (e) {
      setError(e as ApiError);
    } finally {
      setPlanning(false);
    }
  };
  return (
    <Alert color="blue" variant="light" title="Recommended: a read-only role for PgSafe">
      <Stack gap="xs">
        <Text size="sm">
          PgSafe can create a dedicated read-only role and store only its credentials. Give an administrator’s connection URL for this moment
          only: it is used once and never stored.
        </Text>
        <Group grow align="flex-end">
          <PasswordInput label="Administrator URL" value={adminUrl} onChange={(e) => setAdminUrl(e.currentTarget.value)} />
          <TextInput label="New role" value={role} onChange={(e) => setRole(e.currentTarget.value)} maw={200} />
        </Group>
        <Group>
          <Button variant="default" onClick={showSQL} disabled={!adminUrl || !role} loading={planning}>
            Show SQL
          </Button>
          <Button onClick={() => onCreate(adminUrl, role)} disabled={!adminUrl || !role} loading={busy}>
            {actionLabel}
          </Button>
        </Group>
        {plan && (
          <Code block className="selectable" data-testid="role-sql">
            {plan.sql}
          </Code>
        )}
        {error && <ErrorNotice error={error} />}
      </Stack>
    </Alert>
  );
}

interface WriteAccessChoiceProps {
  onCreate: (adminUrl: string, role: string) => Promise<void>;
  busy: boolean;
  accepted: boolean;
  onAccept: (accepted: boolean) => void;
  /** How the deliberate choice starts: "Proceed with" (adding), "Keep" (editing). */
  verb: string;
}

/** A role that can write: the read-only role offered first, then the deliberate, audited choice to go on with it. */
export function WriteAccessChoice({ onCreate, busy, accepted, onAccept, verb }: WriteAccessChoiceProps) {
  return (
    <Stack gap="sm">
      <ReadOnlyRoleOffer actionLabel="Create role and use it" onCreate={onCreate} busy={busy} />
      <Checkbox
        color="red"
        checked={accepted}
        onChange={(e) => onAccept(e.currentTarget.checked)}
        label={`${verb} this write-capable role anyway (recorded in the activity log)`}
      />
    </Stack>
  );
}
