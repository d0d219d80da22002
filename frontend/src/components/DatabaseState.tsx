import { Badge, Box, Group, Paper, Stack, Text } from '@mantine/core';
import { useEffect, useState } from 'react';
import { databaseStatus, isZeroTime, type DatabaseStatus } from '../api';
import { formatRelative } from '../format';
import { applyStatus, useEngineEvents } from '../stores/jobs';
import { stateColor, stateWords } from './DatabaseCard';

/** A database's state as the engine computes it, kept current by its status.changed events. */
export function useDatabaseState(name: string): DatabaseStatus | undefined {
  const [list, setList] = useState<DatabaseStatus[]>([]);
  useEffect(() => {
    let live = true;
    databaseStatus().then(
      (all) => live && setList(all.filter((s) => s.name === name)),
      () => {},
    );
    return () => {
      live = false;
    };
  }, [name]);
  useEngineEvents((ev) => ev.database === name && setList((l) => applyStatus(l, ev)));
  return list.find((s) => s.name === name);
}

/** The state's badge for the page's header. */
export function StateBadge({ s }: { s?: DatabaseStatus }) {
  if (!s) return null;
  return (
    <Badge variant="light" color={stateColor[s.state]} tt="none" data-testid="page-state" data-state={s.state}>
      {stateWords[s.state]}
    </Badge>
  );
}

/** Every reason the database is less than protected: what, since when, and what fixes it (worst first). */
export function StateReasons({ s }: { s?: DatabaseStatus }) {
  if (!s || s.reasons.length === 0) return null;
  return (
    <Paper withBorder radius="md" p="md" data-testid="state-reasons" style={{ borderLeft: `4px solid var(--mantine-color-${stateColor[s.state]}-6)` }}>
      <Stack gap="xs">
        {s.reasons.map((r) => (
          <Group key={r.code} gap="sm" wrap="nowrap" align="flex-start" data-testid="state-reason" data-code={r.code}>
            <Box w={8} h={8} mt={7} style={{ borderRadius: 4, flexShrink: 0, background: `var(--mantine-color-${stateColor[r.severity]}-6)` }} aria-hidden />
            <div style={{ minWidth: 0 }}>
              <Text size="sm" className="selectable">
                {r.message}
              </Text>
              <Text size="xs" c="dimmed">
                {r.action}
                {!isZeroTime(r.since) ? ` · ${formatRelative(r.since)}` : ''}
              </Text>
            </div>
          </Group>
        ))}
      </Stack>
    </Paper>
  );
}
