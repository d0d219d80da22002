import { Badge, Box, Group, Stack, Text, UnstyledButton } from '@mantine/core';
import type { DatabaseStatus, DatabaseView } from '../api';
import { stateColor, stateWords } from './DatabaseCard';

export interface ServerDatabase {
  d: DatabaseView;
  s?: DatabaseStatus;
}

/**
 * A server entry's databases inside its card: each with its state's colour and its worst reason, compact; a click opens its page.
 * Those that were new on the server at its latest run (appeared: entry names) say so.
 */
export function ServerDatabases({
  server,
  databases,
  appeared = [],
  onOpen,
}: {
  server: string;
  databases: ServerDatabase[];
  appeared?: string[];
  onOpen: (d: DatabaseView) => void;
}) {
  if (databases.length === 0) {
    return (
      <Text size="xs" c="dimmed" mt={6} data-testid="server-databases">
        Its databases appear here after the first backup.
      </Text>
    );
  }
  return (
    <Stack gap={2} mt={6} data-testid="server-databases">
      {databases.map(({ d, s }) => {
        const color = s ? stateColor[s.state] : 'gray';
        const short = d.name.startsWith(server + '/') ? d.name.slice(server.length + 1) : d.name;
        const reason = s && s.state !== 'protected' ? s.reasons[0]?.message : undefined;
        const isNew = appeared.includes(d.name) && !d.gone;
        return (
          <UnstyledButton
            key={d.id}
            onClick={() => onOpen(d)}
            data-testid="server-database"
            data-name={d.name}
            data-state={s?.state ?? ''}
            data-new={isNew ? 'true' : undefined}
            aria-label={`${short}${isNew ? ' (new on the server, included in the last backup)' : ''}: ${s ? stateWords[s.state] : 'reading its state'}${reason ? `, ${reason}` : ''}`}
            style={{ borderRadius: 4 }}
            px={4}
            py={2}
            className="server-database-row"
          >
            <Group gap={8} wrap="nowrap" miw={0}>
              <Box w={8} h={8} style={{ borderRadius: 4, background: `var(--mantine-color-${color}-${s?.state === 'attention' ? 5 : 6})`, flexShrink: 0 }} />
              <Text size="sm" fw={500} style={{ flexShrink: 0 }} c={d.gone ? 'dimmed' : undefined}>
                {short}
              </Text>
              {isNew && (
                <Badge size="xs" variant="light" color="blue" tt="none" style={{ flexShrink: 0 }} title="New on the server: included in the last backup" data-testid="server-database-new">
                  new
                </Badge>
              )}
              <Text size="xs" c="dimmed" truncate="end" style={{ minWidth: 0, flex: 1 }} title={reason}>
                {reason ?? (s ? stateWords[s.state] : '')}
              </Text>
            </Group>
          </UnstyledButton>
        );
      })}
    </Stack>
  );
}
