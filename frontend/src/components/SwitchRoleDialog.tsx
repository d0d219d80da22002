import { Alert, Button, Group, Modal, Stack } from '@mantine/core';
import { useEffect, useState } from 'react';
import { switchToReadOnlyRole, toApiError, type ApiError, type PrivilegeReport } from '../api';
import { ReadOnlyRoleOffer } from './ConnectionForm';
import { ErrorNotice } from './ErrorNotice';
import { PrivilegeReportView } from './PrivilegeReportView';

interface Props {
  /** The database whose role can change data; null: closed. */
  name: string | null;
  onClose: () => void;
  onSwitched: () => void;
}

/** “Switch to a read-only role”: PgSafe creates one with an admin URL used once, and the database connects as it from now on. */
export function SwitchRoleDialog({ name, onClose, onSwitched }: Props) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);
  const [done, setDone] = useState<{ role: string; report: PrivilegeReport } | null>(null);
  useEffect(() => {
    setError(null);
    setDone(null);
  }, [name]);
  const create = async (adminUrl: string, role: string) => {
    if (!name) return;
    setBusy(true);
    setError(null);
    try {
      const r = await switchToReadOnlyRole(name, { adminUrl, role, saveAs: '', storages: [], perSchema: false, revokePublicTemp: false, revokePublicCreate: false });
      setDone(r);
      onSwitched();
    } catch (e) {
      setError(toApiError('switch to a read-only role', e));
    } finally {
      setBusy(false);
    }
  };
  return (
    <Modal opened={!!name} onClose={onClose} title={`Switch ${name ?? ''} to a read-only role`} size="lg" radius="md" closeOnClickOutside={false}>
      <Stack gap="sm">
        {done ? (
          <>
            <Alert color="teal" variant="light" title={`Role ${done.role} created: ${name} now connects as it`} data-testid="switched">
              The old role is not changed. Its own check:
            </Alert>
            <PrivilegeReportView report={done.report} />
          </>
        ) : (
          <ReadOnlyRoleOffer actionLabel="Create role and use it" onCreate={create} busy={busy} />
        )}
        {error && <ErrorNotice error={error} />}
        <Group justify="flex-end">
          <Button variant={done ? 'filled' : 'default'} onClick={onClose}>
            {done ? 'Done' : 'Cancel'}
          </Button>
        </Group>
      </Stack>
    </Modal>
  );
}
