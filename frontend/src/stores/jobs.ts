// The window's one subscription to the engine's event stream: which jobs
// run now (with their latest progress), how each ended, and every
// database's newest state. Screens read it with the hooks below and never
// subscribe on their own, so every screen shows the same moment.
import { useEffect, useRef, useSyncExternalStore } from 'react';
import { onAgentConnected, onEngineEvent, runningBackups, type BackupProgress, type DatabaseStatus, type EngineEvent } from '../api';

export type JobKind = NonNullable<EngineEvent['job']>;

interface Snapshot {
  /** Running jobs by `${job}:${database}`: their newest event. */
  running: Record<string, EngineEvent>;
  /** Finished jobs by `${job}:${database}`: how the newest ended. */
  finished: Record<string, EngineEvent>;
}

let snap: Snapshot = { running: {}, finished: {} };
const listeners = new Set<() => void>();
const eventListeners = new Set<(ev: EngineEvent) => void>();
let unsubscribe: (() => void) | null = null;

const key = (job: string | undefined, db: string | undefined) => `${job ?? ''}:${db ?? ''}`;

function handle(ev: EngineEvent) {
  const k = key(ev.job, ev.database);
  switch (ev.type) {
    case 'job.started':
    case 'job.progress':
      snap = { ...snap, running: { ...snap.running, [k]: ev } };
      break;
    case 'job.finished': {
      const running = { ...snap.running };
      delete running[k];
      snap = { running, finished: { ...snap.finished, [k]: ev } };
      break;
    }
  }
  listeners.forEach((l) => l());
  eventListeners.forEach((l) => l(ev));
}

/**
 * A new agent answers (the one that ran the jobs was killed or crashed): no
 * job of the old one will send another event, so none is shown as running
 * any more; the backups the new agent runs are seeded again.
 */
export function agentConnected() {
  snap = { ...snap, running: {} };
  listeners.forEach((l) => l());
  runningBackups().then((rs) => rs.forEach(seedRunningBackup), () => {});
}

function ensureSubscribed() {
  if (unsubscribe) return;
  const offEngine = onEngineEvent(handle);
  const offAgent = onAgentConnected(agentConnected);
  unsubscribe = () => {
    offEngine();
    offAgent();
  };
}

function subscribe(l: () => void) {
  ensureSubscribed();
  listeners.add(l);
  return () => {
    listeners.delete(l);
  };
}

/** Seeds a backup that was already running when the window opened (it was started elsewhere). */
export function seedRunningBackup(p: BackupProgress) {
  const k = key('backup', p.database);
  if (snap.running[k]) return;
  handle({ type: 'job.progress', job: 'backup', jobId: p.backupId, database: p.database, at: new Date().toISOString(), backup: p });
}

/** The running job of that kind on the database (undefined: none), re-rendered on each of its events. */
export function useRunningJob(db: string, job: JobKind = 'backup'): EngineEvent | undefined {
  const s = useSyncExternalStore(subscribe, () => snap);
  return s.running[key(job, db)];
}

/** Every running job, by `${job}:${database}`. */
export function useRunningJobs(): Record<string, EngineEvent> {
  return useSyncExternalStore(subscribe, () => snap).running;
}

/** How the newest job of that kind on the database ended since the window opened (undefined: none). */
export function useFinishedJob(db: string, job: JobKind = 'backup'): EngineEvent | undefined {
  return useSyncExternalStore(subscribe, () => snap).finished[key(job, db)];
}

/** Calls fn with every engine event while the component is mounted (fn may change between renders). */
export function useEngineEvents(fn: (ev: EngineEvent) => void) {
  const ref = useRef(fn);
  ref.current = fn;
  useEffect(() => {
    ensureSubscribed();
    const l = (ev: EngineEvent) => ref.current(ev);
    eventListeners.add(l);
    return () => {
      eventListeners.delete(l);
    };
  }, []);
}

/** Keeps a list of states current: each status.changed replaces (or removes) its database's entry. */
export function applyStatus(list: DatabaseStatus[], ev: EngineEvent): DatabaseStatus[] {
  if (ev.type !== 'status.changed' || !ev.database) return list;
  const rest = list.filter((s) => s.name !== ev.database);
  return ev.status ? [...rest, ev.status] : rest;
}

/** For tests: forget everything and the subscription. */
export function resetJobsStore() {
  unsubscribe?.();
  unsubscribe = null;
  snap = { running: {}, finished: {} };
  listeners.clear();
  eventListeners.clear();
}
