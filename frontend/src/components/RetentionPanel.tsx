import { Alert, Button, Group, NumberInput, Paper, Text, Title } from '@mantine/core';
import { useEffect, useState } from 'react';
import { getRetention, setRetention, type RetentionPolicy } from '../api';
import { UnsavedHint, useUnsavedChanges } from '../unsaved';
import { useCall } from '../useCall';
import { useSaver } from '../useSaver';
import { ErrorNotice } from './ErrorNotice';

const empty: RetentionPolicy = { keep_last: 0, keep_days: 0, hourly: 0, daily: 0, weekly: 0, monthly: 0, yearly: 0, max_size_bytes: 0 };
const GB = 1e9; // decimal, as every size in the window (and the policy's description) is written

/** How long backups are kept: applied to each storage after every good backup; the newest good one is never deleted. */
export function RetentionPanel({ db }: { db: string }) {
  const view = useCall(() => getRetention(db), 'read the retention policy');
  const [p, setP] = useState<RetentionPolicy>(empty);
  const [saved, setSaved] = useState<RetentionPolicy | null>(null);
  const [description, setDescription] = useState('');
  const [advice, setAdvice] = useState<string[]>([]);
  const { state, error, save: run, edited } = useSaver('save the retention policy');
  useEffect(() => {
    if (view.state.data) {
      setP({ ...empty, ...view.state.data.policy });
      setSaved({ ...empty, ...view.state.data.policy });
      setDescription(view.state.data.description);
      setAdvice(view.state.data.lockAdvice ?? []);
    }
  }, [view.state.data]);
  const num = (key: keyof RetentionPolicy, label: string) => (
    <NumberInput
      label={label}
      min={0}
      value={p[key]}
      onChange={(v) => {
        setP({ ...p, [key]: Number(v) || 0 });
        edited();
      }}
      w={110}
    />
  );
  const dirty = saved !== null && JSON.stringify(p) !== JSON.stringify(saved);
  useUnsavedChanges(dirty, 'Keep backups');
  const save = () =>
    run(async () => {
      const v = await setRetention(db, p);
      setDescription(v.description);
      setAdvice(v.lockAdvice ?? []);
      setSaved(p);
    });
  return (
    <Paper withBorder radius="md" p="md">
      <Title order={2} size="h5">
        Keep backups
      </Title>
      <Text size="sm" c="dimmed" mb="sm" data-testid="retention-description">
        {description || 'Everything is kept.'} Applied to each storage after every good backup; the newest good backup is never deleted. 0 turns a rule off.
      </Text>
      {advice.length > 0 && (
        <Alert variant="light" color="yellow" mb="sm" title="This policy and a storage's lock do not fit" data-testid="retention-lock-advice">
          {advice.map((a) => (
            <Text size="sm" key={a}>
              {a.charAt(0).toUpperCase() + a.slice(1)}.
            </Text>
          ))}
        </Alert>
      )}
      <Group align="end" gap="xs">
        {num('keep_last', 'Newest')}
        {num('keep_days', 'Days')}
        {num('hourly', 'Hourly')}
        {num('daily', 'Daily')}
        {num('weekly', 'Weekly')}
        {num('monthly', 'Monthly')}
        {num('yearly', 'Yearly')}
        <NumberInput
          label="At most (GB)"
          min={0}
          decimalScale={1}
          value={p.max_size_bytes / GB}
          onChange={(v) => {
            setP({ ...p, max_size_bytes: Math.round((Number(v) || 0) * GB) });
            edited();
          }}
          w={120}
        />
        <Button variant="light" onClick={save} loading={state === 'saving'}>
          {state === 'saved' ? 'Saved ✓' : 'Save retention'}
        </Button>
        <UnsavedHint show={dirty} />
      </Group>
      {error && <ErrorNotice error={error} />}
    </Paper>
  );
}
