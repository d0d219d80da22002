import { afterEach, describe, expect, it, vi } from 'vitest';
import { ApiError, CALL_TIMEOUT_MS, formatVersion, getAppInfo, getClientTools, toApiError } from './api';
import * as System from './wailsjs/go/ui/SystemService';

vi.mock('./wailsjs/go/ui/SystemService', async (importOriginal) => {
  const real = await importOriginal<typeof import('./wailsjs/go/ui/SystemService')>();
  // By default (and after each mockReset) the real generated binding runs: it reads window.go.
  return { AppInfo: vi.fn(real.AppInfo), ClientTools: vi.fn(real.ClientTools) };
});

describe('formatVersion', () => {
  it('writes versions the way PostgreSQL does', () => {
    expect(formatVersion({ major: 15, minor: 18 })).toBe('15.18');
    expect(formatVersion({ major: 17, minor: 0 })).toBe('17.0');
    expect(formatVersion({ major: 19, minor: 0, suffix: 'beta1' })).toBe('19beta1');
  });
});

describe('bound calls', () => {
  afterEach(() => {
    delete (window as { go?: unknown }).go;
    vi.useRealTimers();
  });

  it('passes Go’s answer through', async () => {
    const installs = [{ dir: '/usr/lib/postgresql/15/bin', version: { major: 15, minor: 18 }, pgDump: '/usr/lib/postgresql/15/bin/pg_dump' }];
    (window as { go?: unknown }).go = {
      ui: { SystemService: { ClientTools: () => Promise.resolve({ installs, newest: 15 }) } },
    };
    await expect(getClientTools()).resolves.toEqual({ installs, newest: 15, advice: undefined });
  });

  it('treats a missing install list as empty', async () => {
    vi.mocked(System.ClientTools).mockResolvedValue({ installs: null, newest: 0, advice: 'install it' } as never);
    await expect(getClientTools()).resolves.toEqual({ installs: [], newest: 0, advice: 'install it' });
  });

  it('explains a window that cannot reach Go (no window.go)', async () => {
    const err = await getAppInfo().then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ApiError);
    const e = err as ApiError;
    expect(e.title).toBe('Couldn’t read PgSafe’s version');
    expect(e.message).toMatch(/^This window lost its connection to PgSafe\. Close PgSafe and open it again/);
    expect(e.detail).toMatch(/ui|go/); // the raw TypeError stays available
  });

  it('gives up after CALL_TIMEOUT_MS and says so', async () => {
    vi.useFakeTimers();
    vi.mocked(System.ClientTools).mockReturnValue(new Promise(() => {}));
    const p = getClientTools();
    const settled = expect(p).rejects.toMatchObject({
      title: 'Couldn’t look for PostgreSQL client tools',
      message: `PgSafe did not answer within ${CALL_TIMEOUT_MS / 1000} seconds. It may be busy; try again in a moment.`,
    });
    await vi.advanceTimersByTimeAsync(CALL_TIMEOUT_MS - 1);
    let done = false;
    p.catch(() => {}).finally(() => (done = true));
    await Promise.resolve();
    expect(done).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    await settled;
  });
});

describe('toApiError', () => {
  it('keeps Go’s words, as a sentence, and the raw text as detail', () => {
    const e = toApiError('back up', 'pg_dump: error: connection refused');
    expect(e.title).toBe('Couldn’t back up');
    expect(e.message).toBe('Pg_dump: error: connection refused.');
    expect(e.detail).toBe('pg_dump: error: connection refused');
  });

  it('does not add a full stop twice', () => {
    expect(toApiError('x', new Error('Disk full.')).message).toBe('Disk full.');
  });

  it('says something useful when the error is empty', () => {
    expect(toApiError('x', undefined).message).toBe('PgSafe gave no reason. Try again; if it keeps happening, restart PgSafe.');
  });

  it('returns an ApiError unchanged', () => {
    const e = new ApiError('t', 'm', 'd');
    expect(toApiError('x', e)).toBe(e);
  });
});
