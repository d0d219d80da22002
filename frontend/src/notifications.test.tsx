import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import * as api from './api';
import { NotificationsPage } from './pages/NotificationsPage';
import { renderWithTheme } from './test/render';

vi.mock('./api', async (importOriginal) => {
  const real = await importOriginal<typeof import('./api')>();
  return { ...real, listNotifiers: vi.fn(), notifierEvents: vi.fn(), addNotifier: vi.fn(), testNotifierForm: vi.fn(), testNotifier: vi.fn(), removeNotifier: vi.fn() };
});

const m = vi.mocked;

beforeEach(() => {
  m(api.listNotifiers).mockResolvedValue([
    { id: 1, name: 'ops', kind: 'slack', enabled: true, events: [], settings: {}, secretsSet: ['webhook_url'] },
  ]);
  m(api.notifierEvents).mockResolvedValue([
    { kind: 'backup.failed', label: 'Backup failed', default: true },
    { kind: 'backup.succeeded', label: 'Backup succeeded', default: false },
  ]);
  m(api.addNotifier).mockResolvedValue();
  m(api.testNotifierForm).mockResolvedValue();
  m(api.removeNotifier).mockResolvedValue();
});

describe('notifications', () => {
  it('lists notifiers without their secrets and sends a test, showing a failure in words', async () => {
    const user = userEvent.setup();
    m(api.testNotifier).mockRejectedValue(new api.ApiError('Couldn’t send a test', 'Slack answered HTTP 404 Not Found: no_service.', 'x'));
    renderWithTheme(<NotificationsPage />);
    const row = await screen.findByTestId('notifier-row');
    expect(row).toHaveTextContent('Slack · webhook_url set ✓ · failures and down/up');
    await user.click(within(row).getByRole('button', { name: 'Send test' }));
    expect(api.testNotifier).toHaveBeenCalledWith('ops');
    expect(await within(row).findByTestId('notifier-test-result')).toHaveTextContent('HTTP 404');
  });

  it('adds an email notifier: test first, then save, the password going only to the Go side', async () => {
    const user = userEvent.setup();
    renderWithTheme(<NotificationsPage />);
    await user.click(await screen.findByRole('button', { name: 'Add notifier' }));
    const dialog = await screen.findByRole('dialog');
    await user.type(within(dialog).getByLabelText('Name'), 'mail');
    await user.type(within(dialog).getByLabelText(/SMTP server/), 'smtp.example.com');
    await user.type(within(dialog).getByLabelText(/^From/), 'pgsafe@example.com');
    await user.type(within(dialog).getByPlaceholderText('ops@example.com, me@example.com'), 'ops@example.com');
    await user.type(within(dialog).getByLabelText('User name'), 'pgsafe');
    await user.type(within(dialog).getByLabelText('Password'), 'mail-pw-1');
    await user.click(within(dialog).getByRole('button', { name: 'Send test' }));
    expect(await within(dialog).findByTestId('notifier-form-tested')).toBeInTheDocument();
    const sent = { name: 'mail', kind: 'email', events: [], settings: { host: 'smtp.example.com', from: 'pgsafe@example.com', to: 'ops@example.com', username: 'pgsafe' }, secrets: { password: 'mail-pw-1' } };
    expect(api.testNotifierForm).toHaveBeenCalledWith(sent);
    await user.click(within(dialog).getByRole('button', { name: 'Save' }));
    await waitFor(() => expect(api.addNotifier).toHaveBeenCalledWith(sent));
  });
});
