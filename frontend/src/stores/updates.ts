// What the window knows about updates: one subscription to the agent's
// "update:status" events, seeded by a read and read again when a new agent
// answers. Settings reads it with useUpdates; "Check now" goes through
// checkNow so that its result lands here too.
import { useSyncExternalStore } from 'react';
import { checkForUpdates, onAgentConnected, onUpdateStatus, toApiError, updateStatus, type ApiError, type UpdateStatus } from '../api';

export interface UpdatesSnapshot {
  status?: UpdateStatus;
  /** Why the status could not be read or checked (the agent did not answer). */
  error?: ApiError;
}

let snap: UpdatesSnapshot = {};
const listeners = new Set<() => void>();
let unsubscribe: (() => void) | null = null;

function set(next: UpdatesSnapshot) {
  snap = next;
  listeners.forEach((l) => l());
}

function load() {
  updateStatus().then(
    (status) => set({ status }),
    (e) => set({ ...snap, error: toApiError('read the update status', e) }),
  );
}

function ensureSubscribed() {
  if (unsubscribe) return;
  const offStatus = onUpdateStatus((status) => set({ status }));
  const offAgent = onAgentConnected(load);
  unsubscribe = () => {
    offStatus();
    offAgent();
  };
  load();
}

function subscribe(l: () => void) {
  ensureSubscribed();
  listeners.add(l);
  return () => {
    listeners.delete(l);
  };
}

/** The update status now, re-rendered on each change. */
export function useUpdates(): UpdatesSnapshot {
  return useSyncExternalStore(subscribe, () => snap);
}

/** "Check now": checks the feed and keeps what it found (the events also carry it). */
export async function checkNow(): Promise<void> {
  if (snap.status) set({ status: { ...snap.status, checking: true } });
  try {
    set({ status: await checkForUpdates() });
  } catch (e) {
    set({ ...snap, status: snap.status && { ...snap.status, checking: false }, error: toApiError('check for updates', e) });
  }
}

/** For tests: forget everything and the subscription. */
export function resetUpdatesStore() {
  unsubscribe?.();
  unsubscribe = null;
  snap = {};
  listeners.clear();
}
