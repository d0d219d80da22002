import { act, renderHook, waitFor } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { BackupProgress, EngineEvent } from '../api';

const h = vi.hoisted(() => ({
  engine: undefined as undefined | ((ev: EngineEvent) => void),
  connected: undefined as undefined | (() => void),
  running: [] as BackupProgress[],
}));

vi.mock('../api', () => ({
  onEngineEvent: (fn: (ev: EngineEvent) => void) => {
    h.engine = fn;
    return () => {};
  },
  onAgentConnected: (fn: () => void) => {
    h.connected = fn;
    return () => {};
  },
  runningBackups: () => Promise.resolve(h.running),
}));

import { resetJobsStore, useRunningJob } from './jobs';

afterEach(() => resetJobsStore());

const started = (database: string): EngineEvent => ({ type: 'job.started', job: 'backup', jobId: 'b1', database, at: new Date().toISOString() }) as EngineEvent;

describe('the jobs store when the agent is replaced', () => {
  it('no longer shows a job of an agent that went away as running', async () => {
    const { result } = renderHook(() => useRunningJob('shop'));
    act(() => h.engine!(started('shop')));
    expect(result.current?.jobId).toBe('b1');
    h.running = [];
    act(() => h.connected!());
    await waitFor(() => expect(result.current).toBeUndefined());
  });

  it('shows what the new agent runs', async () => {
    const { result } = renderHook(() => useRunningJob('billing'));
    h.running = [{ database: 'billing', backupId: 'b2' } as BackupProgress];
    act(() => h.connected!());
    await waitFor(() => expect(result.current?.jobId).toBe('b2'));
  });
});
