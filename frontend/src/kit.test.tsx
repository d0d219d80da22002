import { screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import * as api from './api';
import { ImportDialog } from './components/ImportDialog';
import { ImportKitDialog } from './components/ImportKitDialog';
import { RecoveryKitDialog } from './components/RecoveryKitDialog';
import { WelcomeDialog } from './components/WelcomeDialog';
import { renderWithTheme } from './test/render';

vi.mock('./api', async (importOriginal) => {
  const real = await importOriginal<typeof import('./api')>();
  return {
    ...real,
    recoveryKit: vi.fn(),
    postponeRecoveryKit: vi.fn(),
    generatePassphrase: vi.fn(),
    checkPassphrase: vi.fn(),
    exportRecoveryKit: vi.fn(),
    inspectRecoveryKit: vi.fn(),
    importRecoveryKit: vi.fn(),
    chooseKitSaveFile: vi.fn(),
    chooseKitFile: vi.fn(),
    importBackupFile: vi.fn(),
    chooseBackupFile: vi.fn(),
    copyText: vi.fn(),
  };
});

const m = vi.mocked;
const words = 'tidal oxygen plank ruckus velvet mango';
const info: api.RecoveryKitInfo = {
  keyId: '3f9a0c1d2e4b5a69',
  needed: true,
  keyCreated: true,
  saved: false,
  savedAt: '0001-01-01T00:00:00Z',
  postponed: false,
  welcome: true,
  defaultPath: '/home/ada/Documents/PgSafe-recovery-kit-3f9a0c1d2e4b5a69.txt',
};
const kitText = 'PGSAFE-KIT-1\n# PgSafe recovery kit of master key 3f9a0c1d2e4b5a69\n1: 0123 4567 89AB CDEF  XY7Q\n';

beforeEach(() => {
  vi.clearAllMocks();
  m(api.recoveryKit).mockResolvedValue(info);
  m(api.postponeRecoveryKit).mockResolvedValue();
  m(api.generatePassphrase).mockResolvedValue(words);
  m(api.checkPassphrase).mockImplementation(async (p) =>
    p.length >= 20 ? { ok: true, strength: 80 } : { ok: false, strength: 20, reason: 'It is made of a common password, name or word and little else' },
  );
  m(api.exportRecoveryKit).mockImplementation(async (_p, path) => ({ path, keyId: info.keyId, text: kitText }));
  m(api.copyText).mockResolvedValue(true);
});

describe('WelcomeDialog', () => {
  it('says what PgSafe did and why the kit matters; Later records it and closes', async () => {
    const onChanged = vi.fn();
    renderWithTheme(<WelcomeDialog keyReady onChanged={onChanged} />);
    const welcome = await screen.findByTestId('welcome');
    expect(welcome).toHaveTextContent('PgSafe has created a master key');
    expect(welcome).toHaveTextContent('3f9a0c1d2e4b5a69');
    expect(welcome).toHaveTextContent('every backup becomes unreadable');
    await userEvent.click(screen.getByRole('button', { name: 'Later' }));
    expect(api.postponeRecoveryKit).toHaveBeenCalledOnce();
    await waitFor(() => expect(screen.queryByTestId('welcome')).not.toBeInTheDocument());
    expect(onChanged).toHaveBeenCalled();
  });

  it('does not show once a kit was saved or postponed', async () => {
    m(api.recoveryKit).mockResolvedValue({ ...info, saved: true, welcome: false });
    renderWithTheme(<WelcomeDialog keyReady />);
    await waitFor(() => expect(api.recoveryKit).toHaveBeenCalled());
    expect(screen.queryByTestId('welcome')).not.toBeInTheDocument();
  });

  it('waits for the key before asking', () => {
    renderWithTheme(<WelcomeDialog keyReady={false} />);
    expect(api.recoveryKit).not.toHaveBeenCalled();
  });
});

describe('RecoveryKitDialog', () => {
  it('saves with the generated words once written down, to the typed path, and shows the text to print', async () => {
    const onSaved = vi.fn();
    renderWithTheme(<RecoveryKitDialog opened onClose={() => {}} onSaved={onSaved} />);
    // The words arrive after the first render (a placeholder shows until then).
    await waitFor(() => expect(screen.getByTestId('generated-passphrase')).toHaveTextContent(words));
    const next = screen.getByRole('button', { name: 'Next' });
    expect(next).toBeDisabled();
    await userEvent.click(screen.getByRole('button', { name: 'Copy' }));
    expect(api.copyText).toHaveBeenCalledWith(words);
    await userEvent.click(screen.getByLabelText('I have written the passphrase down'));
    await userEvent.click(next);
    const file = screen.getByLabelText('Kit file');
    expect(file).toHaveValue(info.defaultPath);
    await userEvent.clear(file);
    await userEvent.type(file, '/media/usb/kit.txt');
    await userEvent.click(screen.getByRole('button', { name: 'Save' }));
    expect(api.exportRecoveryKit).toHaveBeenCalledWith(words, '/media/usb/kit.txt');
    const saved = await screen.findByTestId('kit-saved');
    expect(saved).toHaveTextContent('/media/usb/kit.txt');
    expect(screen.getByTestId('kit-text')).toHaveTextContent('PGSAFE-KIT-1');
    // The passphrase is not shown again once the kit is saved.
    expect(document.body).not.toHaveTextContent(words);
    expect(onSaved).toHaveBeenCalledWith(expect.objectContaining({ path: '/media/usb/kit.txt' }));
  });

  it('refuses a weak passphrase of the user’s own with the reason, and wants it twice', async () => {
    renderWithTheme(<RecoveryKitDialog opened onClose={() => {}} />);
    await userEvent.click(await screen.findByText('Choose my own'));
    const pass = screen.getByLabelText('New passphrase');
    await userEvent.type(pass, 'password1234');
    expect(await screen.findByTestId('passphrase-weak')).toHaveTextContent('common password');
    expect(screen.getByRole('button', { name: 'Next' })).toBeDisabled();
    await userEvent.clear(pass);
    const strong = 'walrus sings under copper bridges';
    await userEvent.type(pass, strong);
    await screen.findByText('Strong enough.');
    expect(screen.getByRole('button', { name: 'Next' })).toBeDisabled(); // not typed again yet
    await userEvent.type(screen.getByLabelText('Type it again'), strong);
    await waitFor(() => expect(screen.getByRole('button', { name: 'Next' })).toBeEnabled());
    await userEvent.click(screen.getByRole('button', { name: 'Next' }));
    await userEvent.click(screen.getByRole('button', { name: 'Save' }));
    expect(api.exportRecoveryKit).toHaveBeenCalledWith(strong, info.defaultPath);
  });

  it('shows why a save failed and stays on the file step', async () => {
    m(api.exportRecoveryKit).mockRejectedValue(new Error('save the recovery kit: /x/kit.txt already exists: choose another name or move it away first'));
    renderWithTheme(<RecoveryKitDialog opened onClose={() => {}} />);
    await waitFor(() => expect(screen.getByTestId('generated-passphrase')).toHaveTextContent(words));
    await userEvent.click(screen.getByLabelText('I have written the passphrase down'));
    await userEvent.click(screen.getByRole('button', { name: 'Next' }));
    await userEvent.click(screen.getByRole('button', { name: 'Save' }));
    expect(await screen.findByText(/already exists/)).toBeInTheDocument();
    expect(screen.getByLabelText('Kit file')).toBeInTheDocument();
  });
});

describe('ImportKitDialog', () => {
  const other: api.KitCheck = { path: '/k/old.txt', kitKeyId: '1111222233334444', thisKeyId: info.keyId, same: false, databases: 0, backups: 0, canImport: true };

  it('replaces a different key only when the user ticks so', async () => {
    m(api.inspectRecoveryKit).mockResolvedValue(other);
    m(api.importRecoveryKit).mockResolvedValue({ keyId: other.kitKeyId, unchanged: false, replaced: info.keyId, keptAs: '/home/ada/.config/PgSafe/replaced-key-x' });
    const onImported = vi.fn();
    renderWithTheme(<ImportKitDialog opened onClose={() => {}} onImported={onImported} />);
    await userEvent.type(screen.getByLabelText('Kit file'), '/k/old.txt');
    await userEvent.click(screen.getByRole('button', { name: 'Read kit' }));
    const verdict = await screen.findByTestId('kit-verdict');
    expect(verdict).toHaveTextContent('This computer has a different key');
    expect(verdict).toHaveTextContent(info.keyId);
    await userEvent.type(screen.getByLabelText('The kit’s passphrase'), 'the old passphrase words');
    const go = screen.getByRole('button', { name: `Replace key ${info.keyId}` });
    expect(go).toBeDisabled();
    await userEvent.click(screen.getByLabelText(`Replace key ${info.keyId} with key ${other.kitKeyId}`));
    await userEvent.click(go);
    expect(api.importRecoveryKit).toHaveBeenCalledWith('/k/old.txt', 'the old passphrase words', true);
    expect(await screen.findByTestId('kit-imported')).toHaveTextContent('now uses key 1111222233334444');
    expect(onImported).toHaveBeenCalled();
  });

  it('says plainly why a key in use is kept, and asks no passphrase', async () => {
    m(api.inspectRecoveryKit).mockResolvedValue({ ...other, databases: 2, canImport: false, blocked: 'This computer’s settings hold 2 databases and 5 backups made with key 3f9a0c1d2e4b5a69.' });
    renderWithTheme(<ImportKitDialog opened onClose={() => {}} />);
    await userEvent.type(screen.getByLabelText('Kit file'), '/k/old.txt');
    await userEvent.click(screen.getByRole('button', { name: 'Read kit' }));
    expect(await screen.findByText(/hold 2 databases and 5 backups/)).toBeInTheDocument();
    expect(screen.queryByLabelText('The kit’s passphrase')).not.toBeInTheDocument();
    expect(screen.getByRole('button', { name: `Replace key ${info.keyId}` })).toBeDisabled();
  });

  it('imports a kit of this computer’s own key without asking to replace', async () => {
    m(api.inspectRecoveryKit).mockResolvedValue({ ...other, kitKeyId: info.keyId, same: true });
    m(api.importRecoveryKit).mockResolvedValue({ keyId: info.keyId, unchanged: true });
    renderWithTheme(<ImportKitDialog opened onClose={() => {}} />);
    await userEvent.type(screen.getByLabelText('Kit file'), '/k/mine.txt');
    await userEvent.click(screen.getByRole('button', { name: 'Read kit' }));
    await userEvent.type(await screen.findByLabelText('The kit’s passphrase'), words);
    await userEvent.click(screen.getByRole('button', { name: 'Import' }));
    expect(api.importRecoveryKit).toHaveBeenCalledWith('/k/old.txt', words, false);
    expect(await screen.findByTestId('kit-imported')).toHaveTextContent('already this computer’s key');
  });
});

describe('Restore from a file with another key', () => {
  it('offers the recovery kit of the key the backup needs', async () => {
    m(api.importBackupFile).mockRejectedValue(
      new Error('import /b/shop.pgsafe: this backup needs key 1111222233334444, this machine has key 3f9a0c1d2e4b5a69 (import the matching recovery kit)'),
    );
    renderWithTheme(<ImportDialog opened onClose={() => {}} onRestore={() => {}} />);
    await userEvent.type(screen.getByLabelText('Backup file'), '/b/shop.pgsafe');
    await userEvent.click(screen.getByRole('button', { name: 'Read file' }));
    await userEvent.click(await screen.findByRole('button', { name: 'Import the recovery kit of key 1111222233334444…' }));
    expect(await screen.findByText(/choose the recovery kit of that key/)).toBeInTheDocument();
  });
});
