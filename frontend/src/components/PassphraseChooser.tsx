import { Alert, Button, Checkbox, Code, Group, PasswordInput, Progress, SegmentedControl, Stack, Text } from '@mantine/core';
import { IconCheck, IconCopy, IconRefresh } from '@tabler/icons-react';
import { useEffect, useState } from 'react';
import { checkPassphrase, copyText, generatePassphrase, toApiError, type ApiError, type PassphraseCheck } from '../api';
import { ErrorNotice } from './ErrorNotice';

/**
 * Chooses a new kit's passphrase: six generated words (shown this once,
 * with a copy button and "I have written it down"), or the user's own,
 * rated as the Go side will rate it when saving. onChange gets the
 * passphrase once it is acceptable, "" otherwise.
 */
export function PassphraseChooser({ onChange }: { onChange: (passphrase: string) => void }) {
  const [mode, setMode] = useState<'generated' | 'own'>('generated');
  const [words, setWords] = useState('');
  const [written, setWritten] = useState(false);
  const [copied, setCopied] = useState(false);
  const [own, setOwn] = useState('');
  const [again, setAgain] = useState('');
  const [check, setCheck] = useState<PassphraseCheck | null>(null);
  const [error, setError] = useState<ApiError | null>(null);

  const roll = async () => {
    setWritten(false);
    setCopied(false);
    try {
      setWords(await generatePassphrase());
    } catch (e) {
      setError(toApiError('generate a passphrase', e));
    }
  };
  useEffect(() => {
    if (mode === 'generated' && !words) void roll();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [mode]);
  useEffect(() => {
    if (mode !== 'own' || !own) {
      setCheck(null);
      return;
    }
    let live = true;
    const t = setTimeout(() => {
      checkPassphrase(own).then(
        (c) => live && setCheck(c),
        (e) => live && setError(toApiError('check the passphrase', e)),
      );
    }, 150);
    return () => {
      live = false;
      clearTimeout(t);
    };
  }, [mode, own]);

  const ready = mode === 'generated' ? (words && written ? words : '') : check?.ok && own === again ? own : '';
  useEffect(() => onChange(ready), [ready, onChange]);

  return (
    <Stack gap="sm">
      <SegmentedControl
        aria-label="How to choose the passphrase"
        value={mode}
        onChange={(v) => setMode(v as 'generated' | 'own')}
        data={[
          { value: 'generated', label: 'Generate one (recommended)' },
          { value: 'own', label: 'Choose my own' },
        ]}
      />
      {error && <ErrorNotice error={error} />}
      {mode === 'generated' ? (
        <Stack gap="xs">
          <Text size="sm">Six random words. PgSafe shows them only now and does not keep them: write them down and keep them apart from the kit.</Text>
          <Code block fz="lg" className="selectable" data-testid="generated-passphrase">
            {words || '…'}
          </Code>
          <Group gap="xs">
            <Button
              size="xs"
              variant="default"
              leftSection={copied ? <IconCheck size={14} /> : <IconCopy size={14} />}
              onClick={async () => setCopied(await copyText(words))}
              disabled={!words}
            >
              {copied ? 'Copied' : 'Copy'}
            </Button>
            <Button size="xs" variant="subtle" leftSection={<IconRefresh size={14} />} onClick={roll}>
              Other words
            </Button>
          </Group>
          <Checkbox label="I have written the passphrase down" checked={written} onChange={(e) => setWritten(e.currentTarget.checked)} />
        </Stack>
      ) : (
        <Stack gap="xs">
          <PasswordInput label="New passphrase" value={own} onChange={(e) => setOwn(e.currentTarget.value)} autoComplete="new-password" data-autofocus />
          <Progress
            aria-label="Passphrase strength"
            value={own ? Math.max(5, check?.strength ?? 0) : 0}
            color={check?.ok ? 'green' : (check?.strength ?? 0) >= 35 ? 'yellow' : 'red'}
            size="sm"
          />
          {own && check && !check.ok && (
            <Alert color="orange" variant="light" p="xs" data-testid="passphrase-weak">
              <Text size="sm">{check.reason}</Text>
            </Alert>
          )}
          {check?.ok && (
            <Text size="sm" c="green">
              Strong enough.
            </Text>
          )}
          <PasswordInput
            label="Type it again"
            value={again}
            onChange={(e) => setAgain(e.currentTarget.value)}
            autoComplete="new-password"
            error={again && own !== again ? 'The two passphrases differ.' : undefined}
          />
        </Stack>
      )}
    </Stack>
  );
}
