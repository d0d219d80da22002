import { Alert, Button, Group, Modal, Select, Stack, Stepper, Text, TextInput } from '@mantine/core';
import { useState } from 'react';
import { addDatabase, listImportCandidates, runRoleSetup, testDatabase, type ApiError, type CheckResult, type DatabaseForm, type ImportCandidate, type PrivilegeReport, cancelConnectionCheck } from '../api';
import { useCall } from '../useCall';
import { ConnectingNotice, ConnectionFields, ServerSummary, WriteAccessChoice, connectTarget, useConnectionForm } from './ConnectionForm';
import { ErrorNotice } from './ErrorNotice';
import { PrivilegeReportView } from './PrivilegeReportView';
import { ServerScopeFields } from './ServerScopeFields';

const emptyForm: DatabaseForm = {
  name: '', url: '', host: 'localhost', port: 5432, dbname: '', user: '', password: '', sslmode: 'prefer', sslRootCert: '', sslCert: '', sslKey: '', storages: [], countRows: true,
  urlCommand: '', passwordCommand: '', useUrlCommand: false, usePasswordCommand: false,
  importRef: '', ssh: null, allDatabases: false, exclude: [],
};

interface Props {
  opened: boolean;
  onClose: () => void;
  onAdded: (name: string) => void;
}

/** Add database: connection → test and read-only audit → (optional) read-only role → save. */
export function AddDatabaseWizard({ opened, onClose, onAdded }: Props) {
  const [step, setStep] = useState(0);
  const conn = useConnectionForm(emptyForm);
  const { form, setForm } = conn;
  const [check, setCheck] = useState<CheckResult | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const [busy, setBusy] = useState(false);
  const [testing, setTesting] = useState(false);
  const [acceptWrite, setAcceptWrite] = useState(false);
  const [role, setRole] = useState('');
  const [newRoleReport, setNewRoleReport] = useState<PrivilegeReport | null>(null);
  const candidates = useCall(listImportCandidates, 'read pg_service.conf and ~/.pgpass');

  const close = () => {
    setStep(0);
    conn.reset(emptyForm);
    setCheck(null);
    setError(null);
    setAcceptWrite(false);
    setNewRoleReport(null);
    onClose();
  };
  const importFrom = (ref: string | null) => {
    const c = (candidates.state.data ?? []).find((x) => x.ref === ref);
    if (!c) {
      setForm({ ...form, importRef: '' });
      return;
    }
    setForm({ ...form, importRef: c.ref, name: form.name || c.label, host: c.host || 'localhost', port: c.port || 5432, dbname: c.database, user: c.user, password: '', sslmode: c.sslmode || form.sslmode });
  };
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
      setTesting(true);
      try {
        setCheck(await testDatabase(conn.payload()));
        setStep(1);
      } finally {
        setTesting(false);
      }
    });
  const doSave = () =>
    run(async () => {
      await addDatabase(conn.payload(), acceptWrite);
      onAdded(form.name);
      close();
    });
  const doCreateRole = (adminUrl: string, newRole: string) =>
    run(async () => {
      setRole(newRole);
      setNewRoleReport(await runRoleSetup({ adminUrl, role: newRole, saveAs: form.name, storages: [], perSchema: false, revokePublicTemp: false, revokePublicCreate: false }));
      setStep(2);
    });

  const canTest = form.name.trim() !== '' && conn.complete;
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
            <ConnectionFields
              c={conn}
              extra={
                (candidates.state.data?.length ?? 0) > 0 && (
                  <Select
                    label="Fill in from pg_service.conf or ~/.pgpass"
                    placeholder="Choose a saved connection"
                    clearable
                    data={(candidates.state.data ?? []).map((c: ImportCandidate) => ({ value: c.ref, label: `${c.label}${c.hasPassword ? ' (password saved)' : ''}` }))}
                    value={form.importRef || null}
                    onChange={importFrom}
                    data-testid="import-select"
                  />
                )
              }
            />
            <ServerScopeFields form={form} setForm={setForm} />
            <Text size="xs" c="dimmed">
              PgSafe only needs to read. The next step checks exactly what this role can do.
            </Text>
            {testing && <ConnectingNotice target={connectTarget(form, conn.mode)} onCancel={() => cancelConnectionCheck('')} />}
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
              <ServerSummary check={check} />
              <PrivilegeReportView report={check.report} />
              {writes && (
                <WriteAccessChoice onCreate={doCreateRole} busy={busy} accepted={acceptWrite} onAccept={setAcceptWrite} verb="Proceed with" />
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
