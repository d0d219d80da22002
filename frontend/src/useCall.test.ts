import { act, renderHook, waitFor } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { ApiError } from './api';
import { useCall } from './useCall';

function deferred<T>() {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

describe('useCall', () => {
  it('keeps the newest answer when an older, slower one arrives last', async () => {
    const slow = deferred<string>();
    const fast = deferred<string>();
    const answers = [slow.promise, fast.promise];
    const { result } = renderHook(() => useCall(() => answers.shift()!, 'test'));
    expect(result.current.state.status).toBe('loading');

    act(() => result.current.reload());
    await act(async () => fast.resolve('new'));
    expect(result.current.state).toMatchObject({ status: 'ok', data: 'new' });

    await act(async () => slow.resolve('old'));
    expect(result.current.state).toMatchObject({ status: 'ok', data: 'new' });
  });

  it('keeps the last answer visible while reloading and turns failures into ApiErrors', async () => {
    const answers = [() => Promise.resolve('first'), () => Promise.reject(new Error('disk on fire'))];
    const { result } = renderHook(() => useCall(() => answers.shift()!(), 'read the disk'));
    await waitFor(() => expect(result.current.state.status).toBe('ok'));

    act(() => result.current.reload());
    expect(result.current.state).toMatchObject({ status: 'loading', data: 'first' });

    await waitFor(() => expect(result.current.state.status).toBe('error'));
    const err = result.current.state.error;
    expect(err).toBeInstanceOf(ApiError);
    expect(err?.title).toBe('Couldn’t read the disk');
    expect(err?.message).toBe('Disk on fire.');
  });
});
