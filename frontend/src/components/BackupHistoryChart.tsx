import { Group, Paper, Stack, Text, Title } from '@mantine/core';
import { AreaChart, BarChart } from '@mantine/charts';
import type { BackupRow } from '../api';
import { formatBytes, formatDate, formatDuration } from '../format';

/** A database's good backups over time: the size each wrote and how long it took (oldest left). */
export function BackupHistoryChart({ rows }: { rows: BackupRow[] }) {
  const good = rows.filter((b) => b.status === 'succeeded' && b.storedSize > 0).slice(0, 30).reverse();
  if (good.length < 2) return null;
  const data = good.map((b) => ({ when: formatDate(b.started), size: b.storedSize, seconds: Math.max(b.durationSeconds, 0.1) }));
  const last = good[good.length - 1];
  return (
    <Paper withBorder radius="md" p="md" data-testid="backup-history-chart">
      <Group justify="space-between" mb="xs" wrap="nowrap">
        <Title order={2} size="h5">
          Size and duration
        </Title>
        <Text size="xs" c="dimmed">
          last {good.length} good backups · newest {formatBytes(last.storedSize)} in {formatDuration(last.durationSeconds)}
        </Text>
      </Group>
      <Group grow align="start" gap="md" wrap="nowrap">
        <Stack gap={2} miw={0}>
          <Text size="xs" c="dimmed">
            Size stored
          </Text>
          <AreaChart h={110} data={data} dataKey="when" series={[{ name: 'size', color: 'blue.6', label: 'Size' }]} curveType="linear" withDots={false} gridAxis="none" withXAxis={false} yAxisProps={{ width: 64 }} valueFormatter={formatBytes} />
        </Stack>
        <Stack gap={2} miw={0}>
          <Text size="xs" c="dimmed">
            Time taken
          </Text>
          <BarChart h={110} data={data} dataKey="when" series={[{ name: 'seconds', color: 'teal.6', label: 'Took' }]} gridAxis="none" withXAxis={false} yAxisProps={{ width: 48 }} valueFormatter={formatDuration} />
        </Stack>
      </Group>
    </Paper>
  );
}
