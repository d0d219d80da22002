import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import * as api from './api';
import { CloudDrivesPanel } from './components/CloudDrivesPanel';
import { StoragesPage } from './pages/StoragesPage';
import { renderWithTheme } from './test/render';

vi.mock('./api', async (importOriginal) => {
  const real = await importOriginal<typeof import('./api')>();
  return { ...real, listStorages: vi.fn(), oauthClients: vi.fn(), setOAuthClient: vi.fn(), clearOAuthClient: vi.fn(), startCloudSignIn: vi.fn() };
});

const m = vi.mocked;
const none = (kind: string, service: string, takesSecret: boolean): api.OAuthClient => ({ kind, service, builtIn: false, clientId: '', secretSet: false, takesSecret });
const clients = () => [none('gdrive', 'Google Drive', true), none('dropbox', 'Dropbox', false), { ...none('onedrive', 'OneDrive', true), builtIn: true }];
const row = (kind: string) => screen.getAllByTestId('oauth-client').find((e) => e.dataset.kind === kind)!;

describe('Settings → Cloud drives', () => {
  beforeEach(() => {
    vi.resetAllMocks();
    m(api.oauthClients).mockResolvedValue(clients());
  });

  it('says which drives this build has a client for, and saves your own ID and secret; the secret is never shown again', async () => {
    const user = userEvent.setup();
    const saved = clients();
    saved[0] = { ...saved[0], clientId: 'own-123.apps.googleusercontent.com', secretSet: true };
    m(api.setOAuthClient).mockResolvedValue(saved);
    renderWithTheme(<CloudDrivesPanel />);
    await screen.findAllByTestId('oauth-client');
    expect(within(row('gdrive')).getByTestId('oauth-client-status')).toHaveTextContent('To sign in to Google Drive, enter your own client below: this PgSafe has none.');
    expect(within(row('onedrive')).getByText('Built in')).toBeInTheDocument();
    expect(within(row('dropbox')).queryByLabelText(/client secret/)).not.toBeInTheDocument();
    expect(screen.getByText(/storages already signed in keep the client they signed in with/)).toBeInTheDocument();

    await user.type(within(row('gdrive')).getByLabelText('Google Drive client ID'), 'own-123.apps.googleusercontent.com');
    await user.type(within(row('gdrive')).getByLabelText('Google Drive client secret'), 'GOCSPX-s3cr3t');
    m(api.oauthClients).mockResolvedValue(saved);
    await user.click(within(row('gdrive')).getByRole('button', { name: 'Save' }));
    expect(api.setOAuthClient).toHaveBeenCalledWith('gdrive', 'own-123.apps.googleusercontent.com', 'GOCSPX-s3cr3t');
    await waitFor(() => expect(within(row('gdrive')).getByTestId('oauth-client-status')).toHaveTextContent('Signs in with your own client own-123.apps.googleusercontent.com (secret saved ✓).'));
    expect(within(row('gdrive')).getByLabelText('Google Drive client secret')).toHaveValue('');
    expect(document.body.innerHTML).not.toContain('GOCSPX-s3cr3t');
  });

  it('clears your own client', async () => {
    const user = userEvent.setup();
    const own = clients();
    own[1] = { ...own[1], clientId: 'box-app-key' };
    m(api.oauthClients).mockResolvedValue(own);
    m(api.clearOAuthClient).mockResolvedValue(clients());
    renderWithTheme(<CloudDrivesPanel />);
    await screen.findAllByTestId('oauth-client');
    m(api.oauthClients).mockResolvedValue(clients());
    await user.click(within(row('dropbox')).getByRole('button', { name: 'Clear' }));
    expect(api.clearOAuthClient).toHaveBeenCalledWith('dropbox');
    await waitFor(() => expect(within(row('dropbox')).getByTestId('oauth-client-status')).toHaveTextContent('To sign in to Dropbox, enter your own client below'));
    expect(within(row('dropbox')).getByText('None in this build')).toBeInTheDocument();
  });
});

describe('the add dialog without a client', () => {
  beforeEach(() => {
    vi.resetAllMocks();
    m(api.listStorages).mockResolvedValue([]);
    m(api.oauthClients).mockResolvedValue(clients());
  });

  it('says to enter your own client in Settings, links there, and offers no sign-in that would fail', async () => {
    const user = userEvent.setup();
    const open = vi.fn();
    renderWithTheme(<StoragesPage onOpenSettings={open} />);
    await user.click(await screen.findByRole('button', { name: 'Add storage' }));
    await user.click(screen.getByText('Dropbox', { exact: true }));
    await user.type(screen.getByLabelText(/Name/), 'box');
    const note = await screen.findByTestId('signin-no-client');
    expect(note).toHaveTextContent('This PgSafe was built without a Dropbox client ID. Enter your own OAuth client in Settings, under Cloud drives');
    expect(screen.getByRole('button', { name: 'Sign in with Dropbox' })).toBeDisabled();
    await user.click(within(note).getByRole('button', { name: 'Open Settings' }));
    expect(open).toHaveBeenCalledWith('cloud-title');
  });

  it('signs in with the built-in client where there is one', async () => {
    const user = userEvent.setup();
    renderWithTheme(<StoragesPage />);
    await user.click(await screen.findByRole('button', { name: 'Add storage' }));
    await user.click(screen.getByText('OneDrive', { exact: true }));
    await user.type(screen.getByLabelText(/Name/), 'od');
    await waitFor(() => expect(api.oauthClients).toHaveBeenCalled());
    expect(screen.queryByTestId('signin-no-client')).not.toBeInTheDocument();
    expect(screen.getByRole('button', { name: 'Sign in with Microsoft' })).toBeEnabled();
  });
});
