import { Alert, Anchor, Button, Code, Collapse, Group, Stack, Text } from '@mantine/core';
import { useDisclosure } from '@mantine/hooks';
import { IconAlertCircle, IconRefresh } from '@tabler/icons-react';
import type { ApiError } from '../api';

interface Props {
  error: ApiError;
  /** Offered as "Try again" when given. */
  onRetry?: () => void;
  retrying?: boolean;
}

/** What happened and what to do, with the technical detail one click away. */
export function ErrorNotice({ error, onRetry, retrying }: Props) {
  const [open, { toggle }] = useDisclosure(false);
  // Only offer details when they say more than the message already does.
  const same = (a: string) => a.trim().replace(/[.!?]$/, '').toLowerCase();
  const showDetail = error.detail.trim() !== '' && same(error.detail) !== same(error.message);
  return (
    <Alert
      role="alert"
      variant="light"
      color="red"
      radius="md"
      icon={<IconAlertCircle size={20} stroke={1.75} />}
      title={error.title}
    >
      <Stack gap="xs">
        <Text size="sm" className="selectable">
          {error.message}
        </Text>
        {(onRetry || showDetail) && (
          <Group gap="md">
            {onRetry && (
              <Button
                size="xs"
                variant="white"
                color="red"
                leftSection={<IconRefresh size={14} />}
                onClick={onRetry}
                loading={retrying}
              >
                Try again
              </Button>
            )}
            {showDetail && (
              <Anchor component="button" type="button" size="xs" c="red" onClick={toggle} aria-expanded={open}>
                {open ? 'Hide details' : 'Show details'}
              </Anchor>
            )}
          </Group>
        )}
        {showDetail && (
          <Collapse expanded={open} keepMounted={false}>
            <Code block className="selectable">
              {error.detail}
            </Code>
          </Collapse>
        )}
      </Stack>
    </Alert>
  );
}
