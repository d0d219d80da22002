import { Alert, Button, Group, Modal, Stack, Stepper, Text } from '@mantine/core';
import { useEffect, useState } from 'react';
import {
  cancelConnectionCheck, switchToReadOnlyRole, testConnectionChange, toApiError, updateConnection, type ApiError, type CheckResult, type ConnectionView,
  type DatabaseForm, type EditResult,
} from '../api';
import { ConnectingNotice, ConnectionFields, ServerSummary, WriteAccessChoice, connectTarget, useConnectionForm } from './ConnectionForm';
import { ErrorNotice } from './ErrorNotice';
import { PrivilegeReportView } from './PrivilegeReportView';

/** The edit form, prefilled from the stored connection; the password stays empty (write-only). */
export function formOf(c: ConnectionView): DatabaseForm {
  return {
    name: c.name, url: '', host: c.host, port: c.port, dbname: c.dbname, user: c.user, password: '', sslmode: c.sslmode || 'prefer', sslRootCert: c.sslRootCert,
    sslCert: c.sslCert, sslKey: c.sslKey, storages: [], countRows: c.countRows, importRef: '', ssh: null,
    urlCommand: '', passwordCommand: '', useUrlCommand: !!c.urlCommandSet, usePasswordCommand: !!c.passwordCommandSet,
  };
}

interface Props {
  /** The stored connection to edit; null: closed. */
  conn: ConnectionView | null;
  onClose: () => void;
  /** Something was saved (the dialog closes itself after Save; after a role switch it shows the new role's check first). */
  onSaved: (r: EditResult) => void;
}

/** Edit connection: the Add wizard's connection and audit steps, prefilled, secrets write-only. */
export function EditDatabaseDialog({ conn, onClose, onSaved }: Props) {
  const name = conn?.name ?? '';
  const c = useConnectionForm(conn ? formOf(conn) : formOf(blank));
  const [step, setStep] = useState(0);
  const [check, setCheck] = useState<CheckResult | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const [connecting, setConnecting] = useState(false);
  const [acceptWrite, setAcceptWrite] = useState(false);
  const [switched, setSwitched] = useState<string | null>(null);

  useEffect(() => {
    if (!conn) return;
    const s = conn.ssh;
    c.reset(formOf(conn), s ? { host: s.host, port: s.port, user: s.user, keyPath: s.keyPath, hostKey: s.hostKey, password: '', keyPassphrase: '' } : null, {
      url: !!conn.urlCommandSet,
      password: !!conn.passwordCommandSet,
    });
    setStep(0);
    setCheck(null);
    setError(null);
    setAcceptWrite(false);
    setSwitched(null);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [conn]);

  /** Runs a check that may hang on an unreachable host: “Connecting to host:port…” with Cancel. */
  const connect = async (action: string, fn: () => Promise<void>) => {
    setConnecting(true);
    setError(null);
    try {
      await fn();
    } catch (e) {
      setError(toApiError(action, e));
    } finally {
      setConnecting(false);
    }
  };
  const doTest = () =>
    connect('test the connection', async () => {
      setCheck(await testConnectionChange(name, c.payload()));
      setAcceptWrite(false);
      setStep(1);
    });
  const doSave = () =>
    connect('save the connection', async () => {
      onSaved(await updateConnection(name, c.payload(), acceptWrite));
      onClose();
    });
  const doSwitch = (adminUrl: string, role: string) =>
    connect('switch to a read-only role', async () => {
      const r = await switchToReadOnlyRole(name, { adminUrl, role, saveAs: '', storages: [], perSchema: false, revokePublicTemp: false, revokePublicCreate: false });
      setCheck({ server: check!.server, report: r.report });
      setSwitched(r.role);
      onSaved(r.edit);
    });
  const writes = check?.report.verdict === 'write_access';
  const target = connectTarget(c.form, c.mode);
  const busyNotice = connecting && <ConnectingNotice target={target} onCancel={() => cancelConnectionCheck(name)} />;

  return (
    <Modal opened={!!conn} onClose={onClose} title={`Edit the connection of ${name}`} size="xl" radius="md" closeOnClickOutside={false}>
      <Stepper active={step} size="sm" allowNextStepsSelect={false}>
        <Stepper.Step label="Connection">
          <Stack gap="sm" mt="md">
            <ConnectionFields
              c={c}
              passwordPlaceholder={conn?.passwordSet ? 'leave empty to keep the stored password' : 'none stored'}
              passwordDescription={conn?.passwordSet ? 'Leave empty to keep the stored password; it is never shown.' : undefined}
            />
            <Text size="xs" c="dimmed">
              Nothing is saved until the connection works and you have seen what the role can do.
            </Text>
            {busyNotice}
            {error && <ErrorNotice error={error} />}
            <Group justify="flex-end">
              <Button variant="default" onClick={onClose}>
                Cancel
              </Button>
              <Button onClick={doTest} loading={connecting} disabled={!c.complete}>
                Test and check privileges
              </Button>
            </Group>
          </Stack>
        </Stepper.Step>
        <Stepper.Step label="Privileges">
          {check && (
            <Stack gap="md" mt="md">
              {switched && (
                <Alert color="teal" variant="light" title={`Role ${switched} created: ${name} now connects as it`} data-testid="switched">
                  Its own check:
                </Alert>
              )}
              <ServerSummary check={check} />
              <PrivilegeReportView report={check.report} />
              {writes && !switched && (
                <WriteAccessChoice onCreate={doSwitch} busy={connecting} accepted={acceptWrite} onAccept={setAcceptWrite} verb="Keep" />
              )}
              {busyNotice}
              {error && <ErrorNotice error={error} />}
              <Group justify="space-between">
                <Button variant="subtle" onClick={() => setStep(0)} disabled={connecting || !!switched}>
                  Back
                </Button>
                {switched ? (
                  <Button onClick={onClose}>Done</Button>
                ) : (
                  <Button onClick={doSave} loading={connecting} disabled={writes && !acceptWrite} color={writes ? 'red' : undefined}>
                    Save connection
                  </Button>
                )}
              </Group>
            </Stack>
          )}
        </Stepper.Step>
      </Stepper>
    </Modal>
  );
}

const blank: ConnectionView = {
  name: '', host: '', port: 5432, dbname: '', user: '', passwordSet: false, sslmode: 'prefer', sslRootCert: '', sslCert: '', sslKey: '', ssh: null,
  countRows: true, storages: [], verdict: '', checkedAt: null, writeAccess: '', urlCommandSet: false, passwordCommandSet: false,
};
