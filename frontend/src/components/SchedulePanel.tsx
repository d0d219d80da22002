import { Alert, Button, Chip, Group, NumberInput, Paper, SegmentedControl, Switch, Text, TextInput, Title } from '@mantine/core';
import { useEffect, useState } from 'react';
import { clearSchedule, describeSchedule, getSchedule, isZeroTime, setSchedule, toApiError, type ApiError, type ScheduleForm, type ScheduleKind } from '../api';
import { formatDateTime, formatMinutes } from '../format';
import { UnsavedHint, useUnsavedChanges } from '../unsaved';
import { useCall } from '../useCall';
import { ErrorNotice } from './ErrorNotice';

const days = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];

/**
 * The form as the inputs show it: a kind's field that is unset (0) gets the value its input displays
 * (every 60 minutes, day 1), so what is checked and saved is what the user sees.
 */
export function normalizeSchedule(f: ScheduleForm): ScheduleForm {
  return {
    ...f,
    weekdays: f.weekdays ?? [],
    everyMinutes: f.kind === 'every' && !(f.everyMinutes > 0) ? 60 : f.everyMinutes,
    dayOfMonth: f.kind === 'monthly' && !(f.dayOfMonth > 0) ? 1 : f.dayOfMonth,
  };
}

/** When the database is backed up on its own: every N, daily, weekly, monthly or cron. */
export function SchedulePanel({ db }: { db: string }) {
  const view = useCall(() => getSchedule(db), 'read the schedule');
  const [form, setForm] = useState<ScheduleForm | null>(null);
  const [saved, setSaved] = useState<ScheduleForm | null>(null);
  const [preview, setPreview] = useState<{ ok: boolean; text: string } | null>(null);
  const [state, setState] = useState<'idle' | 'saving' | 'saved'>('idle');
  const [error, setError] = useState<ApiError | null>(null);
  useEffect(() => {
    if (!view.state.data) return;
    const loaded = normalizeSchedule(view.state.data.form);
    setForm(loaded);
    setSaved(loaded);
  }, [view.state.data]);
  const dirty = !!form && !!saved && JSON.stringify(form) !== JSON.stringify(saved);
  useUnsavedChanges(dirty, 'Schedule');
  useEffect(() => {
    if (!form) return;
    let live = true;
    describeSchedule(form).then(
      (text) => live && setPreview({ ok: true, text }),
      (e) => live && setPreview({ ok: false, text: toApiError('read the schedule', e).message }),
    );
    return () => {
      live = false;
    };
  }, [form]);
  if (!form) return null;
  // Typing in a number field keeps what is typed (an emptied field reads 0 and the preview says why it
  // cannot be saved); switching kinds fills the new kind's unset field with what its input shows.
  const change = (patch: Partial<ScheduleForm>, asTyped = false) => {
    const next = { ...form, ...patch };
    setForm(asTyped ? next : normalizeSchedule(next));
    setState('idle');
  };
  const save = async () => {
    setState('saving');
    setError(null);
    try {
      await setSchedule(db, form);
      setSaved(form);
      setState('saved');
      view.reload();
    } catch (e) {
      setError(toApiError('save the schedule', e));
      setState('idle');
    }
  };
  const remove = async () => {
    setError(null);
    try {
      await clearSchedule(db);
      view.reload();
    } catch (e) {
      setError(toApiError('remove the schedule', e));
    }
  };
  const v = view.state.data;
  return (
    <Paper withBorder radius="md" p="md" data-testid="schedule-panel">
      <Group justify="space-between" mb="xs">
        <Title order={2} size="h5">
          Schedule
        </Title>
        <Switch label="On" checked={form.enabled} onChange={(e) => change({ enabled: e.currentTarget.checked })} />
      </Group>
      {v?.set && (
        <Text size="sm" mb="xs" data-testid="schedule-status">
          {v.description}
          {!isZeroTime(v.nextRun) && form.enabled ? ` · next ${formatDateTime(v.nextRun)}` : ''}
          {!isZeroTime(v.lastRun) ? ` · last ${formatDateTime(v.lastRun)}` : ''}
        </Text>
      )}
      {v?.problem && (
        <Alert color="red" variant="light" mb="xs">
          {v.problem}
        </Alert>
      )}
      <SegmentedControl
        mb="sm"
        value={form.kind}
        onChange={(k) => change({ kind: k as ScheduleKind })}
        data={[
          { value: 'every', label: 'Every' },
          { value: 'daily', label: 'Daily' },
          { value: 'weekly', label: 'Weekly' },
          { value: 'monthly', label: 'Monthly' },
          { value: 'cron', label: 'Cron' },
        ]}
      />
      <Group align="end">
        {form.kind === 'every' && (
          <NumberInput
            label="Every (minutes)"
            description={form.everyMinutes > 0 ? `= ${formatMinutes(form.everyMinutes)}` : ' '}
            min={1}
            value={form.everyMinutes}
            onChange={(n) => change({ everyMinutes: Number(n) || 0 }, true)}
            w={160}
          />
        )}
        {(form.kind === 'daily' || form.kind === 'weekly' || form.kind === 'monthly') && (
          <TextInput label="At (HH:MM)" value={form.at} onChange={(e) => change({ at: e.currentTarget.value })} w={120} />
        )}
        {form.kind === 'monthly' && (
          <NumberInput label="Day of month" description="29–31: the last day in shorter months" min={1} max={31} value={form.dayOfMonth} onChange={(n) => change({ dayOfMonth: Number(n) || 1 })} w={200} />
        )}
        {form.kind === 'cron' && <TextInput label="Cron expression" placeholder="30 2 * * 1-5" value={form.cron} onChange={(e) => change({ cron: e.currentTarget.value })} w={220} />}
        <TextInput label="Time zone" placeholder="this computer’s" value={form.timeZone} onChange={(e) => change({ timeZone: e.currentTarget.value })} w={200} />
      </Group>
      {form.kind === 'weekly' && (
        <Chip.Group multiple value={form.weekdays.map(String)} onChange={(v) => change({ weekdays: v.map(Number).sort() })}>
          <Group gap={6} mt="sm">
            {days.map((d, i) => (
              <Chip key={d} value={String(i)} size="xs">
                {d}
              </Chip>
            ))}
          </Group>
        </Chip.Group>
      )}
      {preview && (
        <Text size="sm" mt="sm" c={preview.ok ? 'dimmed' : 'red'} data-testid="schedule-preview">
          {preview.text}
        </Text>
      )}
      {error && <ErrorNotice error={error} />}
      <Group justify="flex-end" mt="sm">
        <UnsavedHint show={dirty} />
        {v?.set && (
          <Button variant="subtle" color="red" onClick={remove}>
            Remove schedule
          </Button>
        )}
        <Button variant="light" onClick={save} loading={state === 'saving'} disabled={!preview?.ok}>
          {state === 'saved' ? 'Saved ✓' : 'Save schedule'}
        </Button>
      </Group>
    </Paper>
  );
}
