import { useState } from 'react';
import { toApiError } from './api';

/** A row's test result: running, or done with what happened in words. */
export type RowTest = 'running' | { ok: boolean; text: string };

/**
 * Per-row "Test" buttons (storages, notifiers): run(name) tests one row;
 * results[name] is its state. okText says what a pass means; a failure
 * shows the error in the user's words.
 */
export function useRowTests(run: (name: string) => Promise<void>, okText: string, action: string) {
  const [results, setResults] = useState<Record<string, RowTest>>({});
  const test = async (name: string) => {
    setResults((r) => ({ ...r, [name]: 'running' }));
    try {
      await run(name);
      setResults((r) => ({ ...r, [name]: { ok: true, text: okText } }));
    } catch (e) {
      setResults((r) => ({ ...r, [name]: { ok: false, text: toApiError(`${action} ${name}`, e).message } }));
    }
  };
  return { results, test };
}
