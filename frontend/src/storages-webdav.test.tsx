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
const consent = 'Send the password unencrypted (trusted network only)';

async function openWebDAV(user: ReturnType<typeof userEvent.setup>, url: string) {
  renderWithTheme(<StoragesPage />);
  await user.click(await screen.findByRole('button', { name: 'Add storage' }));
  await user.click(screen.getByText('WebDAV'));
  await user.type(screen.getByLabelText(/^Name/), 'nas');
  await user.type(screen.getByLabelText('Folder address'), url);
  await user.type(screen.getByLabelText('User'), 'ann');
  await user.type(screen.getByLabelText('Password'), 'dav-secret');
}

describe('adding a WebDAV storage over plain http', () => {
  beforeEach(() => {
    vi.resetAllMocks();
    m(api.listStorages).mockResolvedValue([]);
    m(api.addStorage).mockResolvedValue();
  });

  it('warns for another machine, and saves only once the user ticks the consent, which goes to the Go side', async () => {
    const user = userEvent.setup();
    await openWebDAV(user, 'http://192.168.1.20/dav/');
    expect(screen.getByText('The password would travel unencrypted')).toBeVisible();
    const save = screen.getByRole('button', { name: 'Test and save' });
    expect(save).toBeDisabled();
    await user.click(screen.getByLabelText(consent));
    expect(save).toBeEnabled();
    await user.click(save);
    expect(api.addStorage).toHaveBeenCalledWith(expect.objectContaining({ kind: 'webdav', url: 'http://192.168.1.20/dav/', allowHttp: true }));
    await waitFor(() => expect(screen.queryByRole('dialog')).not.toBeInTheDocument());
  });

  it('unticking the consent disables Save again', async () => {
    const user = userEvent.setup();
    await openWebDAV(user, 'http://nas.local/dav/');
    await user.click(screen.getByLabelText(consent));
    await user.click(screen.getByLabelText(consent));
    expect(screen.getByRole('button', { name: 'Test and save' })).toBeDisabled();
  });

  it('says nothing for https, nor for http to this machine, and sends no consent', async () => {
    const user = userEvent.setup();
    await openWebDAV(user, 'https://192.168.1.20/dav/');
    expect(screen.queryByText('The password would travel unencrypted')).not.toBeInTheDocument();
    const url = screen.getByLabelText('Folder address');
    for (const local of ['http://127.0.0.1:8080/dav/', 'http://localhost/dav/', 'http://[::1]/dav/']) {
      await user.clear(url);
      await user.type(url, local.replace('[', '[[')); // [ starts a key name in user-event
      expect(screen.queryByText('The password would travel unencrypted')).not.toBeInTheDocument();
      expect(screen.getByRole('button', { name: 'Test and save' })).toBeEnabled();
    }
    await user.click(screen.getByRole('button', { name: 'Test and save' }));
    expect(api.addStorage).toHaveBeenCalledWith(expect.objectContaining({ url: 'http://[::1]/dav/', allowHttp: false }));
  });

  it('a consent given for an http address is not sent once the address is https', async () => {
    const user = userEvent.setup();
    await openWebDAV(user, 'http://192.168.1.20/dav/');
    await user.click(screen.getByLabelText(consent));
    const url = screen.getByLabelText('Folder address');
    await user.clear(url);
    await user.type(url, 'https://192.168.1.20/dav/');
    expect(screen.queryByLabelText(consent)).not.toBeInTheDocument();
    await user.click(screen.getByRole('button', { name: 'Test and save' }));
    expect(api.addStorage).toHaveBeenCalledWith(expect.objectContaining({ url: 'https://192.168.1.20/dav/', allowHttp: false }));
  });
});
