import { Badge, Button, Group, NumberInput, Paper, Select, Text, Title, Tooltip } from '@mantine/core';
import { useEffect, useState } from 'react';
import { checkHealth, healthHistory, healthPolicy, setHealthPolicy, toApiError, type ApiError } from '../api';
import { formatDateTime, formatRelative } from '../format';
import { UnsavedHint, useUnsavedChanges } from '../unsaved';
import { useCall } from '../useCall';
import { ErrorNotice } from './ErrorNotice';

const intervals = [
  { value: '0', label: 'Off' },
  { value: '60', label: 'Every minute' },
  { value: '300', label: 'Every 5 minutes' },
  { value: '900', label: 'Every 15 minutes' },
  { value: '3600', label: 'Every hour' },
];

/** A database's optional connection check: how often, when it counts as down, and the recent checks. */
export function HealthPanel({ db }: { db: string }) {
  const policy = useCall(() => healthPolicy(db), 'read the connection check');
  const history = useCall(() => healthHistory(db), 'read the connection checks');
  const [interval, setInterval] = useState('0');
  const [failures, setFailures] = useState(3);
  const [saved, setSaved] = useState<string | null>(null); // interval/failures as saved
  const [state, setState] = useState<'idle' | 'saving' | 'saved' | 'checking'>('idle');
  const [error, setError] = useState<ApiError | null>(null);
  useEffect(() => {
    if (policy.state.data) {
      setInterval(String(policy.state.data.intervalSeconds));
      setFailures(policy.state.data.failuresBeforeDown || 3);
      setSaved(`${policy.state.data.intervalSeconds}/${policy.state.data.failuresBeforeDown || 3}`);
    }
  }, [policy.state.data]);
  const dirty = saved !== null && saved !== `${interval}/${failures}`;
  useUnsavedChanges(dirty, 'Connection check');
  const save = async () => {
    setState('saving');
    setError(null);
    try {
      await setHealthPolicy(db, { intervalSeconds: Number(interval), failuresBeforeDown: failures });
      setSaved(`${interval}/${failures}`);
      setState('saved');
    } catch (e) {
      setError(toApiError('save the connection check', e));
      setState('idle');
    }
  };
  const checkNow = async () => {
    setState('checking');
    setError(null);
    try {
      await checkHealth(db);
    } catch (e) {
      setError(toApiError(`check the connection to ${db}`, e));
    } finally {
      setState('idle');
      history.reload();
    }
  };
  const checks = history.state.data ?? [];
  return (
    <Paper withBorder radius="md" p="md">
      <Title order={2} size="h5">
        Connection check
      </Title>
      <Text size="sm" c="dimmed" mb="sm">
        PgSafe connects now and then (read-only) and tells you when the database stops answering and when it is back.
      </Text>
      <Group align="end" wrap="nowrap">
        <Select label="How often" data={intervals} value={interval} onChange={(v) => { setInterval(v ?? '0'); setState('idle'); }} allowDeselect={false} />
        <NumberInput label="Down after failures in a row" min={1} max={20} value={failures} onChange={(v) => { setFailures(Number(v) || 3); setState('idle'); }} />
        <Button variant="light" onClick={save} loading={state === 'saving'}>
          {state === 'saved' ? 'Saved ✓' : 'Save check'}
        </Button>
        <UnsavedHint show={dirty} />
        <Button variant="default" onClick={checkNow} loading={state === 'checking'}>
          Check now
        </Button>
      </Group>
      {error && <ErrorNotice error={error} />}
      {checks.length > 0 && (
        <Group gap={4} mt="sm" data-testid="health-history">
          {checks.map((c) => (
            <Tooltip key={c.at} label={`${formatDateTime(c.at)} — ${c.ok ? `answered in ${c.latencyMs} ms` : c.error}`} multiline w={360}>
              <Badge size="sm" variant="light" color={c.ok ? 'green' : 'red'} tt="none">
                {c.ok ? '✓' : '✗'} {formatRelative(c.at)}
              </Badge>
            </Tooltip>
          ))}
        </Group>
      )}
    </Paper>
  );
}
