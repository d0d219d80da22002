import { Button, Code, Group, Skeleton, Stack, Text } from '@mantine/core';
import { IconAlertTriangle, IconCircleCheck } from '@tabler/icons-react';
import { useEffect, useState } from 'react';
import { recoveryKit } from '../api';
import { useCall } from '../useCall';
import { ErrorNotice } from './ErrorNotice';
import { ImportKitDialog } from './ImportKitDialog';
import { RecoveryKitDialog } from './RecoveryKitDialog';
import { formatDateTime } from '../format';

/** Settings' recovery kit: whether one was saved and when, Export and Import. */
export function RecoveryKitPanel({ keyId }: { keyId?: string }) {
  const kit = useCall(recoveryKit, 'read the recovery kit’s status');
  const [dialog, setDialog] = useState<'export' | 'import' | null>(null);
  // The key changes when a kit replaces it: read again.
  useEffect(() => {
    if (keyId && kit.state.data && kit.state.data.keyId !== keyId) kit.reload();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [keyId]);
  const k = kit.state.data;
  return (
    <Stack gap="xs" mt="sm">
      {kit.state.status === 'error' ? (
        <ErrorNotice error={kit.state.error} onRetry={kit.reload} />
      ) : !k ? (
        <Skeleton h={20} w="60%" />
      ) : !k.needed ? (
        <Text size="sm" data-testid="kit-status">
          The key comes from a file you keep: that file is what brings it back.
        </Text>
      ) : k.saved ? (
        <Group gap={6} wrap="nowrap" align="start" data-testid="kit-status">
          <IconCircleCheck size={18} color="var(--mantine-color-green-6)" style={{ flex: 'none' }} />
          <Text size="sm">
            Recovery kit saved: {k.savedHow === 'imported' ? 'imported' : 'exported'} {formatDateTime(k.savedAt)}
            {k.savedPath ? (
              <>
                {' '}
                {k.savedHow === 'imported' ? 'from' : 'to'} <Code>{k.savedPath}</Code>
              </>
            ) : null}
            .
          </Text>
        </Group>
      ) : (
        <Group gap={6} wrap="nowrap" align="start" data-testid="kit-status">
          <IconAlertTriangle size={18} color="var(--mantine-color-orange-6)" style={{ flex: 'none' }} />
          <Text size="sm">
            No recovery kit saved yet. If this computer is lost, every backup becomes unreadable without one: save a kit and keep it away from this computer.
          </Text>
        </Group>
      )}
      <Group gap="xs">
        <Button size="xs" variant={k && k.needed && !k.saved ? 'filled' : 'default'} onClick={() => setDialog('export')}>
          Export recovery kit…
        </Button>
        <Button size="xs" variant="default" onClick={() => setDialog('import')}>
          Import recovery kit…
        </Button>
      </Group>
      <RecoveryKitDialog opened={dialog === 'export'} onClose={() => setDialog(null)} onSaved={kit.reload} />
      <ImportKitDialog opened={dialog === 'import'} onClose={() => setDialog(null)} onImported={kit.reload} />
    </Stack>
  );
}
