import { useState } from 'react';
import { toApiError, type ApiError } from './api';

/**
 * A settings form's Save button: state is 'saving' while fn runs, 'saved'
 * after (until the form is edited again), and error says why it failed.
 */
export function useSaver(action: string) {
  const [state, setState] = useState<'idle' | 'saving' | 'saved'>('idle');
  const [error, setError] = useState<ApiError | null>(null);
  const save = async (fn: () => Promise<void>) => {
    setState('saving');
    setError(null);
    try {
      await fn();
      setState('saved');
    } catch (e) {
      setError(toApiError(action, e));
      setState('idle');
    }
  };
  return { state, error, save, edited: () => setState('idle') };
}
