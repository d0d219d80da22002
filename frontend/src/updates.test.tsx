import { act, screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import * as api from './api';
import { UpdatesPanel } from './components/UpdatesPanel';
import { resetUpdatesStore } from './stores/updates';
import { renderWithTheme } from './test/render';

vi.mock('./api', async (importOriginal) => {
  const real = await importOriginal<typeof import('./api')>();
  return {
    ...real,
    updateStatus: vi.fn(),
    checkForUpdates: vi.fn(),
    setAutoUpdateChecks: vi.fn(),
    onUpdateStatus: vi.fn(),
    onAgentConnected: vi.fn(() => () => {}),
    openInBrowser: vi.fn(() => true),
  };
});

const m = vi.mocked;
const base: api.UpdateStatus = { enabled: true, auto: true, autoKnown: true, current: '0.1.0', checking: false, available: false };
const available: api.UpdateStatus = {
  ...base,
  checkedAt: new Date().toISOString(),
  available: true,
  latest: '0.2.0',
  published: '2026-12-01',
  notes: 'Restores resume after a dropped connection.',
  releaseUrl: 'https://example.org/releases/tag/v0.2.0',
  downloadUrl: 'https://example.org/pgsafe_0.2.0_amd64.deb',
};
let push: (s: api.UpdateStatus) => void = () => {};

beforeEach(() => {
  m(api.updateStatus).mockResolvedValue(base);
  m(api.setAutoUpdateChecks).mockResolvedValue();
  m(api.onUpdateStatus).mockImplementation((fn) => {
    push = fn;
    return () => {};
  });
});
afterEach(() => resetUpdatesStore());

describe('Settings › About › Updates', () => {
  it('says a build without a feed does not check, and offers no button', async () => {
    m(api.updateStatus).mockResolvedValue({ ...base, enabled: false });
    renderWithTheme(<UpdatesPanel />);
    expect(await screen.findByText('This build does not check for updates.')).toBeInTheDocument();
    expect(screen.queryByRole('button', { name: 'Check now' })).toBeNull();
  });

  it('shows a newer release with its notes and links, opened in the system browser', async () => {
    m(api.updateStatus).mockResolvedValue(available);
    const user = userEvent.setup();
    renderWithTheme(<UpdatesPanel />);
    expect(await screen.findByText('PgSafe 0.2.0 is available (you have 0.1.0)')).toBeInTheDocument();
    expect(screen.getByText('Restores resume after a dropped connection.')).toBeInTheDocument();
    const notes = screen.getByRole('link', { name: 'Release notes' });
    expect(notes).toHaveAttribute('href', available.releaseUrl);
    await user.click(screen.getByRole('link', { name: 'Download page' }));
    expect(api.openInBrowser).toHaveBeenCalledWith(available.downloadUrl);
  });

  it('Check now: up to date with the time, then an error in words; events update it', async () => {
    const user = userEvent.setup();
    renderWithTheme(<UpdatesPanel />);
    expect(await screen.findByText('Not checked yet.')).toBeInTheDocument();
    const checked = new Date(2026, 11, 6, 10, 32);
    vi.setSystemTime(new Date(2026, 11, 6, 12, 0));
    m(api.checkForUpdates).mockResolvedValue({ ...base, checkedAt: checked.toISOString(), latest: '0.1.0' });
    await user.click(screen.getByRole('button', { name: 'Check now' }));
    expect(await screen.findByText(/^PgSafe is up to date · checked 10:32( AM)?$/)).toBeInTheDocument();
    vi.useRealTimers();

    m(api.checkForUpdates).mockResolvedValue({ ...base, error: 'updates.example.org answered 503 Service Unavailable' });
    await user.click(screen.getByRole('button', { name: 'Check now' }));
    expect(await screen.findByText('Could not check for updates: updates.example.org answered 503 Service Unavailable')).toBeInTheDocument();
    expect(screen.queryByText(/up to date/)).toBeNull();

    act(() => push(available)); // the agent's daily check found one
    expect(await screen.findByText('PgSafe 0.2.0 is available (you have 0.1.0)')).toBeInTheDocument();
  });

  it('turns the daily checks off and says what is sent', async () => {
    const user = userEvent.setup();
    renderWithTheme(<UpdatesPanel />);
    const sw = await screen.findByRole('switch', { name: /^Check for updates every day/ });
    expect(screen.getByText('PgSafe sends only its version and your operating system.')).toBeInTheDocument();
    expect(sw).toBeChecked();
    await user.click(sw);
    await waitFor(() => expect(api.setAutoUpdateChecks).toHaveBeenLastCalledWith(false));
    expect(sw).not.toBeChecked();
  });
});
