import { useCallback, useEffect, useRef, useState } from 'react';
import { ApiError, toApiError } from './api';

export type CallState<T> =
  | { status: 'loading'; data?: T; error?: undefined; checkedAt?: Date }
  | { status: 'ok'; data: T; error?: undefined; checkedAt: Date }
  | { status: 'error'; data?: T; error: ApiError; checkedAt?: Date };

export interface Call<T> {
  state: CallState<T>;
  /** Calls again; the previous data stays visible while it runs. */
  reload: () => void;
}

/**
 * Runs a bound call on mount and on reload(). Only the newest call's result is
 * kept, so a slow earlier answer never overwrites a newer one.
 */
export function useCall<T>(fn: () => Promise<T>, action: string): Call<T> {
  const [state, setState] = useState<CallState<T>>({ status: 'loading' });
  const seq = useRef(0);
  const fnRef = useRef(fn);
  fnRef.current = fn;

  const run = useCallback(() => {
    const id = ++seq.current;
    setState((s) => ({ status: 'loading', data: s.data, checkedAt: s.checkedAt }));
    fnRef.current().then(
      (data) => {
        if (id === seq.current) setState({ status: 'ok', data, checkedAt: new Date() });
      },
      (err: unknown) => {
        if (id === seq.current) setState((s) => ({ status: 'error', error: toApiError(action, err), data: s.data, checkedAt: s.checkedAt }));
      },
    );
  }, [action]);

  useEffect(() => {
    run();
  }, [run]);

  return { state, reload: run };
}
