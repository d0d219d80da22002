import { screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import * as api from './api';
import { StoragesPage } from './pages/StoragesPage';
import { renderWithTheme } from './test/render';

vi.mock('./api', async (importOriginal) => {
  const real = await importOriginal<typeof import('./api')>();
  return { ...real, listStorages: vi.fn(), addStorage: vi.fn(), testStorage: vi.fn(), removeStorage: vi.fn() };
});

const m = vi.mocked;

describe('adding an Azure Blob storage', () => {
  beforeEach(() => {
    vi.resetAllMocks();
    m(api.listStorages).mockResolvedValue([]);
    m(api.addStorage).mockResolvedValue();
  });

  it('sends the account, container, folder and access key; the key goes only to the Go side', async () => {
    const user = userEvent.setup();
    renderWithTheme(<StoragesPage />);
    await user.click(await screen.findByRole('button', { name: 'Add storage' }));
    await user.click(screen.getByText('Azure Blob'));
    await user.type(screen.getByLabelText(/Name/), 'cloud');
    await user.type(screen.getByLabelText(/Storage account/), 'acme');
    await user.type(screen.getByLabelText(/^Container/), 'pgsafe');
    await user.type(screen.getByLabelText('Folder in the container'), 'team-a');
    await user.type(screen.getByLabelText('Access key'), 'a2V5LXZhbHVl');
    await user.click(screen.getByRole('button', { name: 'Test and save' }));
    expect(api.addStorage).toHaveBeenCalledWith(
      expect.objectContaining({ kind: 'azure', name: 'cloud', account: 'acme', container: 'pgsafe', prefix: 'team-a', accountKey: 'a2V5LXZhbHVl', sas: '' }),
    );
    await waitFor(() => expect(screen.queryByRole('dialog')).not.toBeInTheDocument());
    expect(document.body.innerHTML).not.toContain('a2V5LXZhbHVl');
  });

  it('takes a SAS token instead; switching clears the access key typed before', async () => {
    const user = userEvent.setup();
    renderWithTheme(<StoragesPage />);
    await user.click(await screen.findByRole('button', { name: 'Add storage' }));
    await user.click(screen.getByText('Azure Blob'));
    await user.type(screen.getByLabelText(/Name/), 'cloud');
    await user.type(screen.getByLabelText(/Storage account/), 'acme');
    await user.type(screen.getByLabelText(/^Container/), 'pgsafe');
    await user.type(screen.getByLabelText('Access key'), 'typed-first');
    await user.click(screen.getByText('Use a SAS token'));
    await user.type(screen.getByLabelText('SAS token'), 'sv=2024-01-01&sig=abc');
    await user.click(screen.getByRole('button', { name: 'Test and save' }));
    expect(api.addStorage).toHaveBeenCalledWith(expect.objectContaining({ kind: 'azure', accountKey: '', sas: 'sv=2024-01-01&sig=abc' }));
  });
});
