import { Paper, Switch, Text, Title } from '@mantine/core';
import { useEffect, useState } from 'react';
import { setStartAtLogin, startAtLogin, toApiError, trayStatus, type ApiError } from '../api';
import { useCall } from '../useCall';
import { ErrorNotice } from './ErrorNotice';

/** Tray and start at login: how PgSafe lives on this desktop. */
export function DesktopPanel() {
  const tray = useCall(trayStatus, 'read the tray status');
  const login = useCall(startAtLogin, 'read the start-at-login setting');
  const [on, setOn] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);
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
      {t && (
        <Text size="sm" mb="sm" data-testid="tray-status">
          {t.available
            ? 'PgSafe lives in the tray: closing the window keeps scheduled backups running.'
            : `No tray on this desktop${t.reason ? ` (${t.reason})` : ''}: closing the window quits PgSafe and stops scheduled backups. For a server, use \`pgsafe run\`.`}
        </Text>
      )}
      <Switch label="Start PgSafe when I log in (hidden, in the tray)" checked={on} onChange={(e) => toggle(e.currentTarget.checked)} />
      {error && <ErrorNotice error={error} />}
    </Paper>
  );
}
