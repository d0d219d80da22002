import { Alert, AppShell, Badge, Button, Code, Group, Loader, NavLink, ScrollArea, Stack, Text, ThemeIcon, Tooltip } from '@mantine/core';
import { useHotkeys } from '@mantine/hooks';
import { IconAlertTriangle, IconBell, IconBucket, IconKey, IconLayoutDashboard, IconListCheck, IconSettings, IconShieldCheck } from '@tabler/icons-react';
import { useEffect, useState, type ReactNode } from 'react';
import {
  getAppInfo,
  getClientTools,
  getKeyStatus,
  listDatabases,
  onKeyStatus,
  acceptSettings,
  retryOpen,
  toApiError,
  type ApiError,
  type AppInfo,
  type DatabaseView,
  type KeyStatus,
} from './api';
import { ErrorNotice } from './components/ErrorNotice';
import { leaveGuarded, UnsavedChangesDialog } from './unsaved';
import { AddDatabaseWizard } from './components/AddDatabaseWizard';
import { WelcomeDialog } from './components/WelcomeDialog';
import { ActivityPage } from './pages/ActivityPage';
import { DatabasePage } from './pages/DatabasePage';
import { OverviewPage } from './pages/OverviewPage';
import { SettingsPage } from './pages/SettingsPage';
import { NotificationsPage } from './pages/NotificationsPage';
import { StoragesPage } from './pages/StoragesPage';
import { useCall, type CallState } from './useCall';

export type Place = 'overview' | 'storages' | 'notifications' | 'activity' | 'settings';

const places: { id: Place; label: string; icon: ReactNode }[] = [
  { id: 'overview', label: 'Overview', icon: <IconLayoutDashboard size={18} stroke={1.6} /> },
  { id: 'storages', label: 'Storages', icon: <IconBucket size={18} stroke={1.6} /> },
  { id: 'notifications', label: 'Notifications', icon: <IconBell size={18} stroke={1.6} /> },
  { id: 'activity', label: 'Activity', icon: <IconListCheck size={18} stroke={1.6} /> },
  { id: 'settings', label: 'Settings', icon: <IconSettings size={18} stroke={1.6} /> },
];

export function App({ initialPlace = 'overview' }: { initialPlace?: Place }) {
  const [place, setPlace] = useState<Place>(initialPlace);
  // The Settings panel a link asked for (Storages → "Settings, under Cloud drives").
  const [settingsSection, setSettingsSection] = useState<string | undefined>();
  const info = useCall(getAppInfo, 'read PgSafe’s version');
  const tools = useCall(getClientTools, 'look for PostgreSQL client tools');
  const key = useCall(getKeyStatus, 'read the master key’s status');
  const databases = useCall(listDatabases, 'list your databases');
  const [adding, setAdding] = useState(false);
  const [open, setOpen] = useState<DatabaseView | null>(null);
  const ready = key.state.data?.ready === true;
  useHotkeys([['mod+N', () => ready && setAdding(true)]]);
  // The key opens in the background at startup: reload when it is done.
  useEffect(
    () =>
      onKeyStatus(() => {
        key.reload();
        databases.reload();
      }),
    // eslint-disable-next-line react-hooks/exhaustive-deps
    [],
  );

  return (
    <AppShell header={{ height: 52 }} navbar={{ width: { base: 60, md: 208 }, breakpoint: 0 }} padding={0}>
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
            onClick={() =>
              leaveGuarded(() => {
                setPlace(p.id);
                setSettingsSection(undefined);
                setOpen(null);
              })
            }
            variant="light"
            title={p.label}
            classNames={{ label: 'nav-label', body: 'nav-body', section: 'nav-icon' }}
            style={{ borderRadius: 'var(--mantine-radius-md)' }}
            mb={2}
          />
        ))}
      </AppShell.Navbar>

      <AppShell.Main h="100dvh">
        <ScrollArea h="calc(100dvh - var(--app-shell-header-offset, 0px))" type="auto" offsetScrollbars>
          <div className="page">
            <KeyBanner status={key.state.data} />
            {place === 'overview' && open ? (
              <DatabasePage
                db={databases.state.data?.find((d) => d.id === open.id) ?? open}
                onChanged={databases.reload}
                onBack={() =>
                  leaveGuarded(() => {
                    setOpen(null);
                    databases.reload();
                  })
                }
              />
            ) : place === 'overview' ? (
              <OverviewPage
                info={info}
                tools={tools}
                databases={databases}
                keyReady={ready}
                onOpenSettings={() => {
                  setSettingsSection(undefined);
                  setPlace('settings');
                }}
                onAddDatabase={() => setAdding(true)}
                onOpenDatabase={setOpen}
              />
            ) : place === 'storages' ? (
              <StoragesPage
                onOpenSettings={(section) => {
                  setSettingsSection(section);
                  setPlace('settings');
                }}
              />
            ) : place === 'notifications' ? (
              <NotificationsPage />
            ) : place === 'activity' ? (
              <ActivityPage />
            ) : (
              <SettingsPage info={info} tools={tools} keyStatus={key.state.data} section={settingsSection} />
            )}
          </div>
          <UnsavedChangesDialog />
          <AddDatabaseWizard opened={adding} onClose={() => setAdding(false)} onAdded={() => databases.reload()} />
          <WelcomeDialog keyReady={ready} onChanged={databases.reload} />
        </ScrollArea>
      </AppShell.Main>
    </AppShell>
  );
}

/** Says why nothing can be saved while the master key is not open. */
function KeyBanner({ status }: { status?: KeyStatus }) {
  if (!status || status.ready) return null;
  if (status.starting) {
    return (
      <Alert variant="light" color="gray" mb="md" icon={<Loader size={16} />} title="Opening your key…">
        PgSafe is opening its master key from the system keychain. Your keychain may ask you to unlock it.
      </Alert>
    );
  }
  if (status.settingsDamaged) return <DamagedSettings status={status} />;
  if (status.settingsModified) return <ModifiedSettings status={status} />;
  return (
    <Alert variant="light" color="red" mb="md" icon={<IconKey size={18} />} title="PgSafe cannot open its master key" data-testid="key-error">
      <Text size="sm" className="selectable">
        {status.error}
      </Text>
    </Alert>
  );
}

/** The settings database was empty or damaged: what happened, what is safe, and the way on. */
function DamagedSettings({ status }: { status: KeyStatus }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);
  const goOn = async () => {
    setBusy(true);
    setError(null);
    try {
      await retryOpen(); // a "core:status" event reloads the window
    } catch (e) {
      setError(toApiError('open PgSafe’s settings', e));
    } finally {
      setBusy(false);
    }
  };
  return (
    <Alert variant="light" color="red" mb="md" icon={<IconAlertTriangle size={18} />} title="PgSafe’s settings were damaged and set aside" data-testid="settings-damaged">
      <Stack gap="xs">
        <Text size="sm" className="selectable">
          The settings file <Code>{status.settingsPath}</Code> {status.damagedReason}.{' '}
          {status.keptAs ? (
            <>
              It was kept aside in <Code>{status.keptAs}</Code>.
            </>
          ) : (
            <>It could not be moved aside: move it away yourself, then continue. ({status.error})</>
          )}
        </Text>
        <Text size="sm">Your backups are safe in their storages, and your master key is still in this computer’s keychain.</Text>
        <Text size="sm">
          Continue with empty settings, then add each storage again under Storages to see its backups and restore them. Add your databases again to go on backing
          them up.
        </Text>
        {error && <ErrorNotice error={error} />}
        <Group>
          <Button size="xs" onClick={goOn} loading={busy}>
            Continue with empty settings
          </Button>
        </Group>
      </Stack>
    </Alert>
  );
}

/** The settings database was changed outside PgSafe: accept it only if the user did it. */
function ModifiedSettings({ status }: { status: KeyStatus }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);
  const accept = async () => {
    setBusy(true);
    setError(null);
    try {
      await acceptSettings(); // a "core:status" event reloads the window
    } catch (e) {
      setError(toApiError('accept the settings as they are', e));
    } finally {
      setBusy(false);
    }
  };
  return (
    <Alert variant="light" color="red" mb="md" icon={<IconAlertTriangle size={18} />} title="PgSafe’s settings were changed outside PgSafe" data-testid="settings-modified">
      <Stack gap="xs">
        <Text size="sm" className="selectable">
          {status.modifiedDetail ? (
            <>
              The settings file <Code>{status.settingsPath}</Code> was changed outside PgSafe: {status.modifiedDetail}. PgSafe uses none of it until you decide.
            </>
          ) : (
            status.error
          )}
        </Text>
        <Text size="sm">
          If you restored or edited the settings file yourself (from a backup of your home folder, say), accept it as it is: the change is recorded in the
          Activity log. If you did not, someone with access to your account changed it; do not accept it, and add your storages again in fresh settings instead.
        </Text>
        {error && <ErrorNotice error={error} />}
        <Group>
          <Button size="xs" color="red" variant="outline" onClick={accept} loading={busy}>
            I changed it: accept the settings as they are
          </Button>
        </Group>
      </Stack>
    </Alert>
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
