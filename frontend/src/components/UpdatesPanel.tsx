import { Alert, Anchor, Button, Group, Stack, Switch, Text } from '@mantine/core';
import { IconDownload } from '@tabler/icons-react';
import { useEffect, useState, type MouseEvent } from 'react';
import { openInBrowser, setAutoUpdateChecks, toApiError, type ApiError, type UpdateStatus } from '../api';
import { formatDate, formatDateTime, formatTime } from '../format';
import { checkNow, useUpdates } from '../stores/updates';
import { ErrorNotice } from './ErrorNotice';

/** "checked 10:32" today, "checked 3 Dec 2026, 10:32" before. */
function checkedWhen(iso: string): string {
  const d = new Date(iso);
  return d.toDateString() === new Date().toDateString() ? formatTime(d) : formatDateTime(d);
}

/** A link from the update feed (https only, checked in Go and again here), opened in the system browser. */
function ExternalLink({ href, children }: { href: string; children: string }) {
  const open = (e: MouseEvent) => {
    e.preventDefault();
    openInBrowser(href);
  };
  return (
    <Anchor href={href} onClick={open} size="sm" target="_blank" rel="noreferrer">
      {children}
    </Anchor>
  );
}

function Verdict({ st }: { st: UpdateStatus }) {
  if (st.available && st.latest) {
    return (
      <Alert variant="light" color="blue" radius="md" icon={<IconDownload size={20} stroke={1.75} />} data-testid="update-available" title={`PgSafe ${st.latest} is available (you have ${st.current})`}>
        <Stack gap={6}>
          {st.published && (
            <Text size="sm" c="dimmed">
              Released {formatDate(st.published + 'T00:00:00')}
            </Text>
          )}
          {st.notes && (
            <Text size="sm" className="selectable" style={{ whiteSpace: 'pre-line' }}>
              {st.notes}
            </Text>
          )}
          <Group gap="md">
            {st.releaseUrl && <ExternalLink href={st.releaseUrl}>Release notes</ExternalLink>}
            {st.downloadUrl && <ExternalLink href={st.downloadUrl}>Download page</ExternalLink>}
          </Group>
          <Text size="xs" c="dimmed">
            PgSafe never downloads or installs anything by itself: get the new version from its download page.
          </Text>
        </Stack>
      </Alert>
    );
  }
  if (st.checkedAt && !st.error) {
    return (
      <Text size="sm" data-testid="update-verdict">
        {`PgSafe is up to date · checked ${checkedWhen(st.checkedAt)}`}
      </Text>
    );
  }
  if (!st.error) {
    return (
      <Text size="sm" c="dimmed" data-testid="update-verdict">
        Not checked yet.
      </Text>
    );
  }
  return null;
}

/**
 * Updates, under About: whether a newer PgSafe is out (the agent checks its
 * release feed daily, sending only the version and OS), "Check now", and
 * the setting. A build without a feed says it does not check.
 */
export function UpdatesPanel() {
  const { status: st, error: readError } = useUpdates();
  const [auto, setAuto] = useState(true);
  const [error, setError] = useState<ApiError | null>(null);
  useEffect(() => setAuto(st?.auto ?? true), [st?.auto]);
  if (!st) {
    // The window shows the agent's own problems elsewhere: a quiet line here.
    return readError ? (
      <Text size="sm" c="dimmed" data-testid="update-verdict">
        {readError.message}
      </Text>
    ) : null;
  }
  if (!st.enabled) {
    return (
      <Text size="sm" c="dimmed" data-testid="update-verdict">
        This build does not check for updates.
      </Text>
    );
  }
  const toggle = async (on: boolean) => {
    setError(null);
    setAuto(on);
    try {
      await setAutoUpdateChecks(on);
    } catch (e) {
      setAuto(!on);
      setError(toApiError('change the update-check setting', e));
    }
  };
  return (
    <Stack gap="sm" data-testid="updates">
      <Verdict st={st} />
      {st.error && (
        <Text size="sm" c="red" className="selectable" data-testid="update-error">
          Could not check for updates: {st.error}
        </Text>
      )}
      <Group gap="md" wrap="nowrap" align="center">
        <Button variant="default" size="xs" onClick={() => void checkNow()} loading={st.checking} style={{ flexShrink: 0 }}>
          Check now
        </Button>
        <Switch
          label="Check for updates every day"
          description="PgSafe sends only its version and your operating system."
          checked={auto}
          disabled={!st.autoKnown}
          onChange={(e) => void toggle(e.currentTarget.checked)}
        />
      </Group>
      {(error ?? readError) && <ErrorNotice error={(error ?? readError) as ApiError} />}
    </Stack>
  );
}
