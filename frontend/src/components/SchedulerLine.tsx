import { Alert, Button, Group, Text } from '@mantine/core';
import { useEffect } from 'react';
import { isZeroTime, pauseSchedules, resumeSchedules, schedulerStatus, toApiError } from '../api';
import { formatDateTime } from '../format';
import { useCall } from '../useCall';
import { EventsOn } from '../wailsjs/runtime/runtime';

/** Are scheduled backups running? The next one, pause and resume. */
export function SchedulerLine() {
  const st = useCall(schedulerStatus, 'read the scheduler status');
  useEffect(() => {
    try {
      return EventsOn('schedule:event', () => st.reload());
    } catch {
      return () => {};
    }
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);
  const s = st.state.data;
  if (!s) return null;
  const act = (fn: () => Promise<void>) => fn().then(st.reload, (e) => console.warn(toApiError('change the schedules', e).message));
  if (!s.running) {
    return (
      <Alert color="yellow" variant="light" data-testid="scheduler-line" title="Scheduled backups do not run in this window">
        {s.problem}
      </Alert>
    );
  }
  return (
    <Group justify="space-between" data-testid="scheduler-line">
      <Text size="sm" c={s.paused ? 'orange' : 'dimmed'}>
        {s.paused
          ? `Schedules paused ${isZeroTime(s.pausedUntil) ? 'until you resume them' : `until ${formatDateTime(s.pausedUntil)}`}`
          : s.nextDatabase && !isZeroTime(s.nextRun)
            ? `Next backup: ${s.nextDatabase}, ${formatDateTime(s.nextRun!)}`
            : s.next || 'No scheduled backups yet: set a schedule on a database.'}
      </Text>
      {s.paused ? (
        <Button size="xs" variant="light" onClick={() => act(resumeSchedules)}>
          Resume schedules
        </Button>
      ) : (
        <Group gap={4}>
          <Button size="xs" variant="subtle" onClick={() => act(() => pauseSchedules(60))}>
            Pause 1 h
          </Button>
          <Button size="xs" variant="subtle" onClick={() => act(() => pauseSchedules(0))}>
            Pause
          </Button>
        </Group>
      )}
    </Group>
  );
}
