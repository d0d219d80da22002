import {
  Alert, Button, Checkbox, Code, Group, Modal, NumberInput, PasswordInput, SegmentedControl, Select, Stack, Stepper,
  Text, TextInput,
} from '@mantine/core';
import { useState } from 'react';
import {
  addDatabase, listImportCandidates, planRoleSetup, runRoleSetup, sshHostKey, testDatabase, type ApiError, type CheckResult,
  type DatabaseForm, type ImportCandidate, type PrivilegeReport, type RolePlan, type SSHForm,
} from '../api';
import { useCall } from '../useCall';
import { ErrorNotice } from './ErrorNotice';
import { PrivilegeReportView } from './PrivilegeReportView';

const emptyForm: DatabaseForm = {
  name: '', url: '', host: 'localhost', port: 5432, dbname: '', user: '', password: '', sslmode: 'prefer', sslRootCert: '', sslCert: '', sslKey: '', storages: [], countRows: true,
  importRef: '', ssh: null,
};

const emptySSH: SSHForm = { host: '', port: 22, user: '', password: '', keyPath: '', keyPassphrase: '', hostKey: '' };

interface Props {
  opened: boolean;
  onClose: () => void;
  onAdded: (name: string) => void;
}

/** Add database: connection → test and read-only audit → (optional) read-only role → save. */
export function AddDatabaseWizard({ opened, onClose, onAdded }: Props) {
  const [step, setStep] = useState(0);
  const [mode, setMode] = useState<'fields' | 'url'>('fields');
  const [form, setForm] = useState<DatabaseForm>(emptyForm);
  const [check, setCheck] = useState<CheckResult | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const [busy, setBusy] = useState(false);
  const [acceptWrite, setAcceptWrite] = useState(false);
  const [adminUrl, setAdminUrl] = useState('');
  const [role, setRole] = useState('pgsafe_backup');
  const [plan, setPlan] = useState<RolePlan | null>(null);
  const [newRoleReport, setNewRoleReport] = useState<PrivilegeReport | null>(null);
  const candidates = useCall(listImportCandidates, 'read pg_service.conf and ~/.pgpass');
  const [useSSH, setUseSSH] = useState(false);
  const [ssh, setSSH] = useState<SSHForm>(emptySSH);
  const [hostKey, setHostKey] = useState<{ fingerprint: string; key: string } | null>(null);

  const reset = () => {
    setStep(0);
    setForm(emptyForm);
    setCheck(null);
    setError(null);
    setAcceptWrite(false);
    setAdminUrl('');
    setPlan(null);
    setNewRoleReport(null);
    setUseSSH(false);
    setSSH(emptySSH);
    setHostKey(null);
  };
  const close = () => {
    reset();
    onClose();
  };
  const payload = (): DatabaseForm => {
    const base = mode === 'url' ? { ...form, host: '', port: 0, dbname: '', user: '', password: '', importRef: '' } : { ...form, url: '' };
    return { ...base, ssh: useSSH ? ssh : null };
  };
  const importFrom = (ref: string | null) => {
    const c = (candidates.state.data ?? []).find((x) => x.ref === ref);
    if (!c) {
      setForm({ ...form, importRef: '' });
      return;
    }
    setForm({
      ...form,
      importRef: c.ref,
      name: form.name || c.label,
      host: c.host || 'localhost',
      port: c.port || 5432,
      dbname: c.database,
      user: c.user,
      password: '',
      sslmode: c.sslmode || form.sslmode,
    });
  };
  const checkHostKey = () =>
    run(async () => {
      setHostKey(await sshHostKey({ ...ssh, hostKey: '' }));
    });
  const run = async (fn: () => Promise<void>) => {
    setBusy(true);
    setError(null);
    try {
      await fn();
    } catch (e) {
      setError(e as ApiError);
    } finally {
      setBusy(false);
    }
  };
  const doTest = () =>
    run(async () => {
      setCheck(await testDatabase(payload()));
      setStep(1);
    });
  const doSave = () =>
    run(async () => {
      await addDatabase(payload(), acceptWrite);
      onAdded(form.name);
      close();
    });
  const doPlan = () => run(async () => setPlan(await planRoleSetup(roleForm())));
  const doCreateRole = () =>
    run(async () => {
      setNewRoleReport(await runRoleSetup(roleForm()));
      setStep(2);
    });
  const roleForm = () => ({ adminUrl, role, saveAs: form.name, storages: [], perSchema: false, revokePublicTemp: false, revokePublicCreate: false });

  const canTest =
    form.name.trim() !== '' &&
    (mode === 'url' ? form.url.trim() !== '' : form.host !== '' && form.dbname !== '' && form.user !== '') &&
    (!useSSH || ssh.hostKey !== '');
  const writes = check?.report.verdict === 'write_access';

  return (
    <Modal opened={opened} onClose={close} title="Add database" size="xl" radius="md" closeOnClickOutside={false}>
      <Stepper active={step} size="sm" allowNextStepsSelect={false}>
        <Stepper.Step label="Connection">
          <Stack gap="sm" mt="md">
            <TextInput
              label="Name in PgSafe"
              placeholder="Shop (production)"
              value={form.name}
              onChange={(e) => setForm({ ...form, name: e.currentTarget.value })}
              required
              data-autofocus
            />
            {(candidates.state.data?.length ?? 0) > 0 && mode === 'fields' && (
              <Select
                label="Fill in from pg_service.conf or ~/.pgpass"
                placeholder="Choose a saved connection"
                clearable
                data={(candidates.state.data ?? []).map((c: ImportCandidate) => ({
                  value: c.ref,
                  label: `${c.label}${c.hasPassword ? ' (password saved)' : ''}`,
                }))}
                value={form.importRef || null}
                onChange={importFrom}
                data-testid="import-select"
              />
            )}
            <SegmentedControl
              value={mode}
              onChange={(v) => setMode(v as 'fields' | 'url')}
              data={[
                { value: 'fields', label: 'Fields' },
                { value: 'url', label: 'Paste a URL' },
              ]}
            />
            {mode === 'url' ? (
              <PasswordInput
                label="Connection URL"
                description="postgres://user:password@host:5432/dbname or host=… dbname=… (it may hold the password; it is stored sealed, never shown again)"
                value={form.url}
                onChange={(e) => setForm({ ...form, url: e.currentTarget.value })}
              />
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
                <Group grow>
                  <PasswordInput
                    label="Password"
                    placeholder={form.importRef ? 'from your saved connection' : undefined}
                    value={form.password}
                    onChange={(e) => setForm({ ...form, password: e.currentTarget.value })}
                  />
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
            <Checkbox
              label="Connect through an SSH bastion"
              checked={useSSH}
              onChange={(e) => setUseSSH(e.currentTarget.checked)}
            />
            {useSSH && (
              <Stack gap="xs" pl="md" data-testid="ssh-section">
                <Text size="xs" c="dimmed">
                  The database host and port above are as the bastion sees them. PgSafe connects to the bastion, checks its host key,
                  and forwards the connection — also for every backup.
                </Text>
                <Group grow>
                  <TextInput label="SSH host" value={ssh.host} onChange={(e) => setSSH({ ...ssh, host: e.currentTarget.value, hostKey: '' })} />
                  <NumberInput label="SSH port" value={ssh.port} onChange={(v) => setSSH({ ...ssh, port: Number(v) || 22 })} maw={120} />
                  <TextInput label="SSH user" value={ssh.user} onChange={(e) => setSSH({ ...ssh, user: e.currentTarget.value })} />
                </Group>
                <Group grow>
                  <TextInput
                    label="Private key file"
                    placeholder="~/.ssh/id_ed25519"
                    value={ssh.keyPath}
                    onChange={(e) => setSSH({ ...ssh, keyPath: e.currentTarget.value })}
                  />
                  <PasswordInput
                    label={ssh.keyPath ? 'Key passphrase (if any)' : 'SSH password'}
                    value={ssh.keyPath ? ssh.keyPassphrase : ssh.password}
                    onChange={(e) =>
                      setSSH(ssh.keyPath ? { ...ssh, keyPassphrase: e.currentTarget.value } : { ...ssh, password: e.currentTarget.value })
                    }
                  />
                </Group>
                {ssh.hostKey ? (
                  <Text size="sm" c="teal" data-testid="ssh-trusted">
                    Host key trusted: {hostKey?.fingerprint}
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
              </Stack>
            )}
            <Text size="xs" c="dimmed">
              PgSafe only needs to read. The next step checks exactly what this role can do.
            </Text>
            {error && <ErrorNotice error={error} />}
            <Group justify="flex-end">
              <Button onClick={doTest} loading={busy} disabled={!canTest}>
                Test and check privileges
              </Button>
            </Group>
          </Stack>
        </Stepper.Step>

        <Stepper.Step label="Privileges">
          {check && (
            <Stack gap="md" mt="md">
              <Text size="sm" data-testid="server-info">
                Connected to PostgreSQL {check.server.version}, database {check.server.database} ({formatBytes(check.server.database_size)},{' '}
                {check.server.encoding}), {Math.max(1, Math.round(check.server.latency / 1e6))} ms away
                {check.server.ssl ? ', encrypted' : ''}.
              </Text>
              <PrivilegeReportView report={check.report} />
              {writes && (
                <Stack gap="sm">
                  <Alert color="blue" variant="light" title="Recommended: a read-only role for PgSafe">
                    <Stack gap="xs">
                      <Text size="sm">
                        PgSafe can create a dedicated read-only role and store only its credentials. Give an administrator’s connection
                        URL for this moment only: it is used once and never stored.
                      </Text>
                      <Group grow align="flex-end">
                        <PasswordInput label="Administrator URL" value={adminUrl} onChange={(e) => setAdminUrl(e.currentTarget.value)} />
                        <TextInput label="New role" value={role} onChange={(e) => setRole(e.currentTarget.value)} maw={200} />
                      </Group>
                      <Group>
                        <Button variant="default" onClick={doPlan} disabled={!adminUrl || !role} loading={busy}>
                          Show SQL
                        </Button>
                        <Button onClick={doCreateRole} disabled={!adminUrl || !role} loading={busy}>
                          Create role and use it
                        </Button>
                      </Group>
                      {plan && (
                        <Code block className="selectable" data-testid="role-sql">
                          {plan.sql}
                        </Code>
                      )}
                    </Stack>
                  </Alert>
                  <Checkbox
                    color="red"
                    checked={acceptWrite}
                    onChange={(e) => setAcceptWrite(e.currentTarget.checked)}
                    label="Proceed with this write-capable role anyway (recorded in the activity log)"
                  />
                </Stack>
              )}
              {error && <ErrorNotice error={error} />}
              <Group justify="space-between">
                <Button variant="subtle" onClick={() => setStep(0)}>
                  Back
                </Button>
                <Button onClick={doSave} loading={busy} disabled={writes && !acceptWrite} color={writes ? 'red' : undefined}>
                  Save database
                </Button>
              </Group>
            </Stack>
          )}
        </Stepper.Step>

        <Stepper.Completed>
          <Stack gap="md" mt="md">
            <Alert color="teal" variant="light" title={`Role ${role} created and saved as “${form.name}”`}>
              PgSafe now connects as {role}. Its own check:
            </Alert>
            {newRoleReport && <PrivilegeReportView report={newRoleReport} />}
            <Group justify="flex-end">
              <Button
                onClick={() => {
                  onAdded(form.name);
                  close();
                }}
              >
                Done
              </Button>
            </Group>
          </Stack>
        </Stepper.Completed>
      </Stepper>
    </Modal>
  );
}

export function formatBytes(n: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let i = 0;
  let v = n;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return `${v < 10 && i > 0 ? v.toFixed(1) : Math.round(v)} ${units[i]}`;
}
