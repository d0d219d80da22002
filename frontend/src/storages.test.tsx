import { screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import * as api from './api';
import { StoragesPage } from './pages/StoragesPage';
import { renderWithTheme } from './test/render';

vi.mock('./api', async (importOriginal) => {
  const real = await importOriginal<typeof import('./api')>();
  return { ...real, listStorages: vi.fn(), addStorage: vi.fn(), chooseFolder: vi.fn() };
});

const m = vi.mocked;

beforeEach(() => {
  m(api.listStorages).mockResolvedValue([]);
  m(api.addStorage).mockResolvedValue();
});

async function openFolderForm(user: ReturnType<typeof userEvent.setup>) {
  renderWithTheme(<StoragesPage />);
  await user.click(await screen.findByRole('button', { name: 'Add storage' }));
  await user.type(await screen.findByLabelText(/^Name/), 'Local disk');
}

describe('storages: a folder', () => {
  it('Browse… fills the folder from the system’s chooser, starting at what is typed', async () => {
    const user = userEvent.setup();
    m(api.chooseFolder).mockResolvedValue('/media/usb/backups');
    await openFolderForm(user);
    await user.type(screen.getByRole('textbox', { name: /^Folder/ }), '/media');
    await user.click(screen.getByRole('button', { name: 'Browse…' }));
    expect(api.chooseFolder).toHaveBeenCalledWith('Choose the folder for backups', '/media');
    await waitFor(() => expect(screen.getByRole('textbox', { name: /^Folder/ })).toHaveValue('/media/usb/backups'));
    await user.click(screen.getByRole('button', { name: 'Test and save' }));
    expect(api.addStorage).toHaveBeenCalledWith(expect.objectContaining({ kind: 'local', name: 'Local disk', path: '/media/usb/backups' }));
  });

  it('cancelling the chooser keeps the typed path, and a typed path alone works', async () => {
    const user = userEvent.setup();
    m(api.chooseFolder).mockResolvedValue('');
    await openFolderForm(user);
    await user.type(screen.getByRole('textbox', { name: /^Folder/ }), '/mnt/nas');
    await user.click(screen.getByRole('button', { name: 'Browse…' }));
    await waitFor(() => expect(api.chooseFolder).toHaveBeenCalled());
    expect(screen.getByRole('textbox', { name: /^Folder/ })).toHaveValue('/mnt/nas');
    await user.click(screen.getByRole('button', { name: 'Test and save' }));
    expect(api.addStorage).toHaveBeenCalledWith(expect.objectContaining({ kind: 'local', path: '/mnt/nas' }));
  });
});
