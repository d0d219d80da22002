import { Button, Group, Modal, Paper, Stack, Switch, Text, Title } from '@mantine/core';
import { useEffect, useState } from 'react';
import { quitPgSafe, setStartAtLogin, startAtLogin, toApiError, trayStatus, type ApiError } from '../api';
import { useCall } from '../useCall';
import { ErrorNotice } from './ErrorNotice';

/**
 * Start at login and the tray: how PgSafe lives on this desktop. The window is
 * only a face of the agent, which runs the schedules and jobs whether or not
 * a window is open.
 */
export function DesktopPanel() {
  const tray = useCall(trayStatus, 'read the tray status');
  const login = useCall(startAtLogin, 'read the start-at-login setting');
  const [on, setOn] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);
  const [quitting, setQuitting] = useState<'ask' | 'stopping' | null>(null);
  const quit = async () => {
    setError(null);
    setQuitting('stopping');
    try {
      await quitPgSafe(); // the window closes once the agent has stopped
    } catch (e) {
      setQuitting(null);
      setError(toApiError('quit PgSafe', e));
    }
  };
  useEffect(() => setOn(!!login.state.data), [login.state.data]);
  const toggle = async (v: boolean) => {
    setError(null);
    setOn(v);
    try {
      await setStartAtLogin(v);
    } catch (e) {
      setOn(!v);
      setError(toApiError('change the start-at-login setting', e));
    }
  };
  const t = tray.state.data;
  return (
    <Paper withBorder radius="md" p="lg" component="section" aria-labelledby="desktop-title">
      <Title order={2} size="h5" id="desktop-title" mb="xs">
        Desktop
      </Title>
      <Switch
        label="Start PgSafe at login"
        description="The agent runs your schedules and shows the tray icon; the window opens only when you want it."
        checked={on}
        onChange={(e) => toggle(e.currentTarget.checked)}
      />
      {t && (
        <Text size="sm" c="dimmed" mt="sm" data-testid="tray-status">
          {t.available
            ? 'Closing this window never stops backups: PgSafe’s agent goes on with them, and its tray icon opens the window again.'
            : 'Closing this window never stops backups: PgSafe’s agent goes on with them. There is no tray icon on this desktop, so to come back, open PgSafe again.'}
        </Text>
      )}
      {t && !t.available && t.reason && (
        <Text size="xs" c="dimmed" mt={4} data-testid="tray-reason">
          Why no tray icon: {t.reason}
        </Text>
      )}
      <Group mt="md" justify="space-between" wrap="nowrap" gap="md">
        <Text size="sm" c="dimmed">
          Quitting stops scheduled backups until PgSafe is opened again{on ? ' or you log in again' : ''}.
        </Text>
        <Button variant="default" color="red" onClick={() => setQuitting('ask')} style={{ flexShrink: 0 }}>
          Quit PgSafe…
        </Button>
      </Group>
      {error && <ErrorNotice error={error} />}
      <Modal opened={quitting !== null} onClose={() => quitting === 'ask' && setQuitting(null)} title="Quit PgSafe?" centered>
        <Stack gap="md">
          <Text size="sm">
            PgSafe’s agent stops: no scheduled backup, check or drill runs until PgSafe is opened again
            {on ? ' or you log in again' : ''}. A scheduled backup in progress gets a minute to finish; then it is cancelled and nothing of it is
            kept. This window closes too.
          </Text>
          <Group justify="flex-end">
            <Button variant="default" onClick={() => setQuitting(null)} disabled={quitting === 'stopping'}>
              Keep running
            </Button>
            <Button color="red" onClick={quit} loading={quitting === 'stopping'}>
              Quit PgSafe
            </Button>
          </Group>
        </Stack>
      </Modal>
    </Paper>
  );
}
