import { AppShell, Badge, Group, NavLink, ScrollArea, Text, ThemeIcon, Tooltip } from '@mantine/core';
import { IconLayoutDashboard, IconSettings, IconShieldCheck } from '@tabler/icons-react';
import { useState, type ReactNode } from 'react';
import { getAppInfo, getClientTools, type AppInfo } from './api';
import { OverviewPage } from './pages/OverviewPage';
import { SettingsPage } from './pages/SettingsPage';
import { useCall, type CallState } from './useCall';

export type Place = 'overview' | 'settings';

const places: { id: Place; label: string; icon: ReactNode }[] = [
  { id: 'overview', label: 'Overview', icon: <IconLayoutDashboard size={18} stroke={1.6} /> },
  { id: 'settings', label: 'Settings', icon: <IconSettings size={18} stroke={1.6} /> },
];

export function App({ initialPlace = 'overview' }: { initialPlace?: Place }) {
  const [place, setPlace] = useState<Place>(initialPlace);
  const info = useCall(getAppInfo, 'read PgSafe’s version');
  const tools = useCall(getClientTools, 'look for PostgreSQL client tools');

  return (
    <AppShell header={{ height: 52 }} navbar={{ width: 208, breakpoint: 0 }} padding={0}>
      <AppShell.Header px="md" className="chrome">
        <Group h="100%" justify="space-between" wrap="nowrap">
          <Group gap={10} wrap="nowrap">
            <ThemeIcon size={28} radius="md" variant="filled" aria-hidden>
              <IconShieldCheck size={18} stroke={2} />
            </ThemeIcon>
            <Text fw={650} size="md" component="span">
              PgSafe
            </Text>
            <VersionBadge state={info.state} />
          </Group>
        </Group>
      </AppShell.Header>

      <AppShell.Navbar p="xs" className="chrome" aria-label="Places">
        {places.map((p) => (
          <NavLink
            key={p.id}
            component="button"
            type="button"
            label={p.label}
            leftSection={p.icon}
            active={place === p.id}
            aria-current={place === p.id ? 'page' : undefined}
            onClick={() => setPlace(p.id)}
            variant="light"
            style={{ borderRadius: 'var(--mantine-radius-md)' }}
            mb={2}
          />
        ))}
      </AppShell.Navbar>

      <AppShell.Main h="100dvh">
        <ScrollArea h="calc(100dvh - var(--app-shell-header-offset, 0px))" type="auto" offsetScrollbars>
          <div className="page">
            {place === 'overview' ? (
              <OverviewPage info={info} tools={tools} onOpenSettings={() => setPlace('settings')} />
            ) : (
              <SettingsPage info={info} tools={tools} />
            )}
          </div>
        </ScrollArea>
      </AppShell.Main>
    </AppShell>
  );
}

function VersionBadge({ state }: { state: CallState<AppInfo> }) {
  if (!state.data) return null;
  const { version, commit } = state.data;
  return (
    <Tooltip label={`Commit ${commit}`} withArrow openDelay={400}>
      <Badge variant="default" radius="sm" size="sm" tt="none" fw={500} c="dimmed" data-testid="app-version" className="selectable">
        {version}
      </Badge>
    </Tooltip>
  );
}
