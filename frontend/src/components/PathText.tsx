import { ActionIcon, Group, Text, Tooltip, type TextProps } from '@mantine/core';
import { IconCheck, IconCopy } from '@tabler/icons-react';
import { useEffect, useState } from 'react';
import { copyText } from '../api';

interface Props extends TextProps {
  path: string;
  /** Names the path for screen readers and the copy button: "settings folder". */
  label: string;
  testId?: string;
}

/** A file system path: monospace, selectable, with a copy button. */
export function PathText({ path, label, testId, ...textProps }: Props) {
  const [copied, setCopied] = useState<'yes' | 'failed' | null>(null);
  useEffect(() => {
    if (!copied) return;
    const t = setTimeout(() => setCopied(null), 1600);
    return () => clearTimeout(t);
  }, [copied]);

  return (
    <Group gap={4} wrap="nowrap" miw={0}>
      <Text
        ff="monospace"
        size="sm"
        className="selectable"
        data-testid={testId}
        title={path}
        miw={0}
        {...textProps}
      >
        {/* Long paths lose their start, not their end: the folder name matters most. */}
        <span className="path-start">
          <bdi>{path}</bdi>
        </span>
      </Text>
      <Tooltip
        label={copied === 'yes' ? 'Copied' : copied === 'failed' ? 'Couldn’t reach the clipboard' : `Copy ${label}`}
        withArrow
        openDelay={300}
        opened={copied ? true : undefined}
      >
        <ActionIcon
          variant="subtle"
          color={copied === 'yes' ? 'teal' : 'gray'}
          size="sm"
          aria-label={`Copy ${label}`}
          onClick={async () => setCopied((await copyText(path)) ? 'yes' : 'failed')}
        >
          {copied === 'yes' ? <IconCheck size={14} /> : <IconCopy size={14} />}
        </ActionIcon>
      </Tooltip>
    </Group>
  );
}
