import {
  Code,
  DataList,
  Group,
  Paper,
  SegmentedControl,
  Skeleton,
  Stack,
  Text,
  Title,
  useMantineColorScheme,
  type MantineColorScheme,
} from '@mantine/core';
import { IconDeviceDesktop, IconMoon, IconSun } from '@tabler/icons-react';
import { useEffect, type ReactNode } from 'react';
import type { AppInfo, ClientTools, KeyStatus } from '../api';
import { ClientToolsPanel } from '../components/ClientToolsPanel';
import { CloudDrivesPanel } from '../components/CloudDrivesPanel';
import { DesktopPanel } from '../components/DesktopPanel';
import { DrillServerPanel } from '../components/DrillServerPanel';
import { ErrorNotice } from '../components/ErrorNotice';
import { PathText } from '../components/PathText';
import { RecoveryKitPanel } from '../components/RecoveryKitPanel';
import { UpdatesPanel } from '../components/UpdatesPanel';
import type { Call } from '../useCall';

interface Props {
  info: Call<AppInfo>;
  tools: Call<ClientTools>;
  keyStatus?: KeyStatus;
  /** A panel to scroll to when the page opens (its heading's id, e.g. "cloud-title"). */
  section?: string;
}

const sourceText: Record<string, string> = {
  keychain: 'in this computer’s keychain',
  'key-file': 'in a key file (PGSAFE_KEY_FILE or --key-file)',
  'recovery-kit': 'from a recovery kit',
  'protected-key-file': 'in a passphrase-protected key file',
};

export function SettingsPage({ info, tools, keyStatus, section }: Props) {
  useEffect(() => {
    // The whole panel (its border too), not only its heading.
    if (section) document.getElementById(section)?.closest('section')?.scrollIntoView({ block: 'start' });
  }, [section, keyStatus?.ready]);
  return (
    <Stack gap="lg">
      <Title order={1} size="h3">
        Settings
      </Title>
      <Paper withBorder radius="md" p="lg" component="section" aria-labelledby="key-title">
        <Title order={2} size="h5" id="key-title" mb="xs">
          Master key
        </Title>
        {keyStatus?.ready ? (
          <>
            <Text size="sm" data-testid="key-status">
              Key <Code>{keyStatus.keyId}</Code> is kept {sourceText[keyStatus.source ?? ''] ?? keyStatus.source}. Every backup is encrypted under it: keep a
              recovery kit somewhere safe, away from this computer.
            </Text>
            <RecoveryKitPanel keyId={keyStatus.keyId} />
          </>
        ) : (
          <Text size="sm" c="red" data-testid="key-status">
            {keyStatus?.error ?? 'Not open yet.'}
          </Text>
        )}
      </Paper>
      <ClientToolsPanel tools={tools} />
      {keyStatus?.ready && <DrillServerPanel />}
      {keyStatus?.ready && <CloudDrivesPanel />}
      <DataPanel info={info} />
      <DesktopPanel />
      <AppearancePanel />
      <AboutPanel info={info} />
    </Stack>
  );
}

function Section({ id, title, description, children }: { id: string; title: string; description?: ReactNode; children: ReactNode }) {
  return (
    <Paper withBorder p="lg" radius="md" component="section" aria-labelledby={id}>
      <Title order={2} size="h4" id={id}>
        {title}
      </Title>
      {description && (
        <Text size="sm" c="dimmed" mt={4} maw={560}>
          {description}
        </Text>
      )}
      <div style={{ marginTop: 'var(--mantine-spacing-md)' }}>{children}</div>
    </Paper>
  );
}

function DataPanel({ info: { state, reload } }: { info: Call<AppInfo> }) {
  return (
    <Section
      id="data-title"
      title="Where your data lives"
      description="PgSafe keeps its settings and logs in one folder on this computer, readable only by you. Set PGSAFE_HOME before starting PgSafe to keep it elsewhere."
    >
      {state.status === 'error' ? (
        <ErrorNotice error={state.error} onRetry={reload} />
      ) : !state.data ? (
        <Skeleton h={20} w="60%" />
      ) : state.data.settingsDir ? (
        <DataList labelWidth={130}>
          <DataList.Item>
            <DataList.ItemLabel>Settings folder</DataList.ItemLabel>
            <DataList.ItemValue miw={0}>
              <PathText path={state.data.settingsDir} label="settings folder" testId="settings-dir" />
            </DataList.ItemValue>
          </DataList.Item>
        </DataList>
      ) : (
        <Text size="sm" c="red">
          PgSafe could not work out where to keep its settings on this computer. Set PGSAFE_HOME to a folder you own
          and start PgSafe again.
        </Text>
      )}
    </Section>
  );
}

function AppearancePanel() {
  const { colorScheme, setColorScheme } = useMantineColorScheme();
  const option = (value: MantineColorScheme, label: string, icon: ReactNode) => ({
    value,
    label: (
      <Group gap={6} wrap="nowrap" justify="center">
        {icon}
        <span>{label}</span>
      </Group>
    ),
  });
  return (
    <Section id="appearance-title" title="Appearance" description="Match your system, or pick light or dark.">
      <SegmentedControl
        aria-label="Theme"
        value={colorScheme}
        onChange={(v) => setColorScheme(v as MantineColorScheme)}
        data={[
          option('auto', 'System', <IconDeviceDesktop size={14} />),
          option('light', 'Light', <IconSun size={14} />),
          option('dark', 'Dark', <IconMoon size={14} />),
        ]}
      />
    </Section>
  );
}

function AboutPanel({ info: { state, reload } }: { info: Call<AppInfo> }) {
  return (
    <Section id="about-title" title="About PgSafe">
      {state.status === 'error' ? (
        <ErrorNotice error={state.error} onRetry={reload} />
      ) : !state.data ? (
        <Skeleton h={60} w="50%" />
      ) : (
        <DataList labelWidth={130} className="selectable">
          <DataList.Item>
            <DataList.ItemLabel>Version</DataList.ItemLabel>
            <DataList.ItemValue data-testid="about-version">{state.data.version}</DataList.ItemValue>
          </DataList.Item>
          <DataList.Item>
            <DataList.ItemLabel>Commit</DataList.ItemLabel>
            <DataList.ItemValue ff="monospace">{state.data.commit}</DataList.ItemValue>
          </DataList.Item>
          <DataList.Item>
            <DataList.ItemLabel>Platform</DataList.ItemLabel>
            <DataList.ItemValue>
              {state.data.platform}, built with {state.data.goVersion}
            </DataList.ItemValue>
          </DataList.Item>
        </DataList>
      )}
      <Title order={3} size="h6" mt="lg" mb="xs">
        Updates
      </Title>
      <UpdatesPanel />
    </Section>
  );
}
