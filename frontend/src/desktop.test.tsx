import { screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import * as api from './api';
import { DesktopPanel } from './components/DesktopPanel';
import { renderWithTheme } from './test/render';

vi.mock('./api', async (importOriginal) => {
  const real = await importOriginal<typeof import('./api')>();
  return { ...real, trayStatus: vi.fn(), startAtLogin: vi.fn(), setStartAtLogin: vi.fn(), quitPgSafe: vi.fn() };
});

const m = vi.mocked;

beforeEach(() => {
  m(api.trayStatus).mockResolvedValue({ available: true });
  m(api.startAtLogin).mockResolvedValue(false);
  m(api.setStartAtLogin).mockResolvedValue();
});

describe('Settings › Desktop', () => {
  it('says what starting at login does, and turns it on and off', async () => {
    const user = userEvent.setup();
    renderWithTheme(<DesktopPanel />);
    const sw = await screen.findByRole('switch', { name: /^Start PgSafe at login/ });
    expect(
      screen.getByText('The agent runs your schedules and shows the tray icon; the window opens only when you want it.'),
    ).toBeInTheDocument();
    await waitFor(() => expect(api.startAtLogin).toHaveBeenCalled());
    expect(sw).not.toBeChecked();
    await user.click(sw);
    expect(api.setStartAtLogin).toHaveBeenLastCalledWith(true);
    expect(sw).toBeChecked();
    await user.click(sw);
    expect(api.setStartAtLogin).toHaveBeenLastCalledWith(false);
    expect(sw).not.toBeChecked();
  });

  it('puts the switch back and says why when the login item cannot be written', async () => {
    m(api.setStartAtLogin).mockRejectedValue(new Error('writing the autostart entry: read-only file system'));
    const user = userEvent.setup();
    renderWithTheme(<DesktopPanel />);
    const sw = await screen.findByRole('switch', { name: /^Start PgSafe at login/ });
    await user.click(sw);
    expect(await screen.findByText(/read-only file system/)).toBeInTheDocument();
    expect(sw).not.toBeChecked();
  });

  it('never says that closing the window stops backups, with a tray icon or without', async () => {
    const { unmount } = renderWithTheme(<DesktopPanel />);
    const withTray = await screen.findByTestId('tray-status');
    expect(withTray).toHaveTextContent('Closing this window never stops backups');
    expect(withTray).toHaveTextContent('its tray icon opens the window again');
    expect(screen.queryByTestId('tray-reason')).toBeNull();
    unmount();

    m(api.trayStatus).mockResolvedValue({ available: false, reason: 'no StatusNotifierItem host on the session bus' });
    renderWithTheme(<DesktopPanel />);
    const noTray = await screen.findByTestId('tray-status');
    expect(noTray).toHaveTextContent('Closing this window never stops backups');
    expect(noTray).toHaveTextContent('There is no tray icon on this desktop, so to come back, open PgSafe again.');
    expect(screen.getByTestId('tray-reason')).toHaveTextContent(
      'Why no tray icon: no StatusNotifierItem host on the session bus',
    );
    expect(noTray).not.toHaveTextContent(/quits|hides/);
  });

  it('quits PgSafe only once the user confirms, and says why when it cannot', async () => {
    const user = userEvent.setup();
    m(api.quitPgSafe).mockRejectedValueOnce(new Error('the agent answered 500')).mockResolvedValue();
    renderWithTheme(<DesktopPanel />);
    await user.click(await screen.findByRole('button', { name: 'Quit PgSafe…' }));
    const dialog = await screen.findByRole('dialog', { name: 'Quit PgSafe?' });
    expect(dialog).toHaveTextContent('no scheduled backup, check or drill runs until PgSafe is opened again');
    await user.click(screen.getByRole('button', { name: 'Keep running' }));
    expect(api.quitPgSafe).not.toHaveBeenCalled();
    await user.click(screen.getByRole('button', { name: 'Quit PgSafe…' }));
    await user.click(await screen.findByRole('button', { name: 'Quit PgSafe' }));
    expect(api.quitPgSafe).toHaveBeenCalledTimes(1);
    await waitFor(() => expect(api.quitPgSafe).toHaveBeenCalledTimes(1));
    expect(await screen.findByText(/agent answered 500/i)).toBeInTheDocument();
    await user.click(screen.getByRole('button', { name: 'Quit PgSafe…' }));
    await user.click(await screen.findByRole('button', { name: 'Quit PgSafe' }));
    expect(api.quitPgSafe).toHaveBeenCalledTimes(2);
  });
});
