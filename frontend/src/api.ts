// The one place the interface talks to PgSafe's Go side. Screens import from
// here, never from ./wailsjs, so tests can replace this module with vi.mock.
//
// Every call returns plain data or rejects with an ApiError whose title and
// message are written for the user; the raw error stays in `detail`.
import * as System from './wailsjs/go/ui/SystemService';
import * as Databases from './wailsjs/go/ui/DatabaseService';
import * as Activity from './wailsjs/go/ui/AuditService';
import * as Backups from './wailsjs/go/ui/BackupService';
import * as Storages from './wailsjs/go/ui/StorageService';
import * as Restores from './wailsjs/go/ui/RestoreService';
import * as Notifiers from './wailsjs/go/ui/NotifierService';
import * as Schedules from './wailsjs/go/ui/ScheduleService';
import * as AppShell from './wailsjs/go/main/App';
import { EventsOn } from './wailsjs/runtime/runtime';
import { BrowserOpenURL, ClipboardSetText } from './wailsjs/runtime/runtime';
import type { engine, ui } from './wailsjs/go/models';
import { formatBytes, formatDateTime, formatDuration, formatRelative } from './format';

export interface AppInfo {
  name: string;
  version: string;
  commit: string;
  goVersion: string;
  platform: string;
  /** Where PgSafe keeps its settings (PGSAFE_HOME when set). Empty if unknown. */
  settingsDir: string;
}

export interface PgVersion {
  major: number;
  minor: number;
  /** Pre-release tag such as "beta1"; absent for releases. */
  suffix?: string;
}

export interface ToolInstall {
  dir: string;
  version: PgVersion;
  pgDump: string;
  pgRestore?: string;
  psql?: string;
}

export interface ClientTools {
  /** Newest first. */
  installs: ToolInstall[];
  /** Newest pg_dump major version found, 0 when none. */
  newest: number;
  /** What to do when nothing usable was found. */
  advice?: string;
}

/** An error to show the user: what happened, what to do, and the raw detail. */
export class ApiError extends Error {
  readonly title: string;
  readonly detail: string;

  constructor(title: string, message: string, detail: string) {
    super(message);
    this.name = 'ApiError';
    this.title = title;
    this.detail = detail;
  }
}

/** How long a call may take before we tell the user it did not answer. */
export const CALL_TIMEOUT_MS = 30_000;

export function getAppInfo(): Promise<AppInfo> {
  return call('read PgSafe’s version', () => System.AppInfo());
}

export function getClientTools(): Promise<ClientTools> {
  return call('look for PostgreSQL client tools', async () => {
    const ct = await System.ClientTools();
    return { installs: ct.installs ?? [], newest: ct.newest ?? 0, advice: ct.advice || undefined };
  });
}

export interface KeyStatus {
  ready: boolean;
  keyId?: string;
  /** "keychain", "key-file", "recovery-kit", "protected-key-file". */
  source?: string;
  error?: string;
  /** Still opening: a "core:status" event follows. */
  starting?: boolean;
  /** The settings database was changed outside PgSafe (error says how); acceptSettings takes it as it is. */
  settingsModified?: boolean;
  /** How it was changed, e.g. "it is an older copy (change 12; PgSafe last wrote change 15)". */
  modifiedDetail?: string;
  /** The settings database (settingsPath) was empty or damaged (damagedReason) and was moved to keptAs ("" when it could not be). */
  settingsDamaged?: boolean;
  settingsPath?: string;
  damagedReason?: string;
  keptAs?: string;
}

export function getKeyStatus(): Promise<KeyStatus> {
  return call('read the master key’s status', () => System.KeyStatus());
}

/** Opens settings changed outside PgSafe, accepting them as they now are (the user restored or edited them); audited. */
export function acceptSettings(): Promise<KeyStatus> {
  return call('accept the settings as they are', () => System.AcceptSettings(), LONG_CALL_MS);
}

/** Opens the key and settings again: after damaged settings were set aside, PgSafe goes on with empty ones. */
export function retryOpen(): Promise<KeyStatus> {
  return call('open PgSafe’s settings', () => System.Retry(), LONG_CALL_MS);
}

/** Calls fn with the new status when the app has opened (or failed to open) its key. */
export function onKeyStatus(fn: (s: KeyStatus) => void): () => void {
  try {
    return EventsOn('core:status', fn);
  } catch {
    return () => {};
  }
}

export type Verdict = 'read_only' | 'read_only_with_warnings' | 'write_access';

export interface Finding {
  code: string;
  severity: 'write' | 'warning' | 'info' | string;
  object: string;
  detail: string;
  fix_sql: string;
}

export interface MissingRead {
  object: string;
  privilege: string;
  detail: string;
  fix_sql: string;
}

export interface PrivilegeReport {
  verdict: Verdict;
  findings: Finding[];
  missing_read: MissingRead[];
}

export interface ServerInfo {
  version: string;
  major: number;
  database: string;
  user: string;
  database_size: number;
  encoding: string;
  ssl: boolean;
  /** Nanoseconds. */
  latency: number;
}

export interface CheckResult {
  server: ServerInfo;
  report: PrivilegeReport;
}

export interface DatabaseForm {
  name: string;
  url: string;
  host: string;
  port: number;
  dbname: string;
  user: string;
  password: string;
  sslmode: string;
  sslRootCert: string;
  sslCert: string;
  sslKey: string;
  storages: string[];
  countRows: boolean;
  /** A pg_service.conf / ~/.pgpass entry the fields came from (its password stays on the Go side). */
  importRef: string;
  ssh: SSHForm | null;
  /** Back up every database of this server (a server entry), but `exclude`. */
  allDatabases?: boolean;
  exclude?: string[];
  /** Credentials commands (write-only, like the password): urlCommand prints the whole connection before each use, passwordCommand only the
   * password. In an edit, an empty command with its use… flag on keeps the stored one; the flag off removes it. */
  urlCommand: string;
  passwordCommand: string;
  useUrlCommand: boolean;
  usePasswordCommand: boolean;
}

export interface SSHForm {
  host: string;
  port: number;
  user: string;
  password: string;
  keyPath: string;
  keyPassphrase: string;
  /** The bastion's host key, once the user checked its fingerprint. */
  hostKey: string;
}

export interface ImportCandidate {
  ref: string;
  source: string;
  label: string;
  host: string;
  port: number;
  database: string;
  user: string;
  sslmode?: string;
  hasPassword: boolean;
}

export function listImportCandidates(): Promise<ImportCandidate[]> {
  return call('read pg_service.conf and ~/.pgpass', async () => ((await Databases.ImportCandidates()) ?? []) as ImportCandidate[]);
}

export function sshHostKey(f: SSHForm): Promise<{ fingerprint: string; key: string }> {
  return call('read the SSH server’s host key', () => Databases.SSHHostKey(f), 30_000);
}

export interface DatabaseView {
  id: number;
  name: string;
  host: string;
  port: number;
  dbname: string;
  user: string;
  passwordSet: boolean;
  sslmode: string;
  ssh: boolean;
  countRows: boolean;
  storageIds?: number[];
  /** A server entry: every database of the server but `exclude`, `parallel` at once. */
  allDatabases?: boolean;
  exclude?: string[];
  parallel?: number;
  /** A server's database: its server entry's id (0: not one); `gone` since when it is no longer on the server. */
  serverEntry?: number;
  gone?: string | null;
  /** The connection (or only its password) comes from a credentials command; host, database and user are then empty. */
  urlCommandSet?: boolean;
  passwordCommandSet?: boolean;
}

export interface StorageProgress {
  id: string;
  name: string;
  bytes: number;
  error?: string;
}

export interface BackupProgress {
  database: string;
  backupId: string;
  phase: 'connecting' | 'counting' | 'dumping' | 'finishing' | 'done' | string;
  table?: string;
  rawBytes: number;
  estimatedBytes: number;
  storedBytes: number;
  bytesPerSecond: number;
  elapsedSeconds: number;
  /** 0: unknown. */
  etaSeconds: number;
  storages?: StorageProgress[] | null;
  /** What the backup waits for: a lock another session holds. */
  waiting?: string;
}

export interface BackupFinished {
  database: string;
  backupId?: string;
  status: string;
  error?: string;
}

export interface BackupCopy {
  storage: string;
  status: 'written' | 'failed' | 'deleted' | 'writing' | string;
  error?: string;
  /** Why retention left this copy it would have deleted ("kept until DATE: the storage's lock"). */
  kept?: string;
}

export interface BackupRow {
  id: string;
  status: 'running' | 'succeeded' | 'failed' | 'cancelled' | string;
  origin: string;
  started: string;
  durationSeconds: number;
  rawSize: number;
  storedSize: number;
  /** The technical detail of a failure (or which storages lack it). */
  error?: string;
  /** Why it failed, in a sentence. */
  reason?: string;
  /** What failed: "database", "pg_dump", "storage", or "" when unknown. */
  blame?: string;
  copies: BackupCopy[] | null;
  /** The latest verification or drill of this backup; absent: never checked. */
  checked?: CheckSummary | null;
}

export interface CheckSummary {
  kind: 'verify' | 'drill' | string;
  ok: boolean;
  when: string;
  problem?: string;
  /** A passed drill in a sentence: tables, row counts, restore time, where it ran. */
  summary?: string;
}

/** A verification or drill just run. */
export interface BackupCheck {
  kind: 'verify' | 'drill' | string;
  ok: boolean;
  problem?: string;
  problemCode?: string;
  tables: number;
  rowDiffs?: string[] | null;
  warnings?: string[] | null;
  when: string;
  durationSeconds: number;
  /** Drills: tables whose row counts were compared with the backup's snapshot. */
  rowsCompared?: number;
  /** Drills: how long the restore itself took (what a real restore would take). */
  restoreSeconds?: number;
  /** Drills: where it ran, e.g. "local throwaway PostgreSQL 15". */
  server?: string;
  /** Drills: the result in a sentence. */
  summary?: string;
}

export interface LastCheck {
  kind: string;
  /** Zero time ("0001-…"): never checked. */
  when: string;
  ok: boolean;
  backupId: string;
  problem?: string;
}

export type RestoreTargetKind = 'same' | 'replace' | 'url';

export interface RestoreRequest {
  backupId: string;
  /** Restore from a file: the .pgsafe file read, instead of a storage's copy. */
  file?: string;
  target: RestoreTargetKind;
  user: string;
  password: string;
  database: string;
  url: string;
  confirm: string;
  jobs: number;
  noOwner: boolean;
  noPrivileges: boolean;
  /** Put every object in the target's default tablespace (pg_restore --no-tablespaces). */
  noTablespaces?: boolean;
  excludeExtensions: string[];
  /** Create the roles the target lacks from the ones saved with the backup (no passwords, unable to log in). */
  createRoles?: boolean;
  /** Give a role's objects and grants to another that exists on the target: old name → new name. */
  roleMap?: Record<string, string>;
}

/** Why a restore did not start: roles the backup names that the target lacks or the restoring role cannot give objects to (restore.RolesProblem). */
export interface RolesProblem {
  missing?: string[] | null;
  /** Of missing, those the roles saved with the backup define (they can be created). */
  creatable?: string[] | null;
  undefined?: string[] | null;
  /** Why the backup has no saved roles. */
  noSavedRoles?: string;
  /** Roles a map gives objects to that the target lacks. */
  mapTargets?: string[] | null;
  /** Owners the restoring role cannot give objects to (not a superuser nor a member). */
  cannotOwn?: string[] | null;
  restoringRole?: string;
  /** Tablespaces the backup puts objects in that the target lacks (restore without tablespaces, or create them first). */
  missingTablespaces?: string[] | null;
}

export interface RestoreProgress {
  backupId: string;
  phase: 'checking' | 'decrypting' | 'restoring' | 'done' | string;
  readBytes: number;
  total: number;
  item?: string;
}

export interface RestoreFinished {
  backupId: string;
  ok: boolean;
  cancelled: boolean;
  database?: string;
  /** Why it failed, in a sentence; error is the technical detail. */
  problem?: string;
  error?: string;
  /** pg_restore's raw problem lines; notes say what they mean. */
  warnings?: string[] | null;
  notes?: RestoreNote[] | null;
  ignoredErrors: number;
  viaTempFile: boolean;
  /** The restored rows compared with the counts the backup recorded. */
  rows?: RowCheck | null;
  /** postgres://user@host:port/db — never with a password. */
  connection?: string;
  durationSeconds: number;
  /** The restore did not start for the roles the backup names: the dialog offers the ways on. */
  roles?: RolesProblem | null;
  /** Roles the restore created on the target from the ones saved with the backup. */
  rolesCreated?: string[] | null;
}

/** One thing pg_restore's messages say, in words, with its raw lines (restore.Note). */
export interface RestoreNote {
  code: string;
  severity: 'warning' | 'info' | string;
  message: string;
  lines?: string[] | null;
}

/** A restored database's row counts against the backup's recorded ones (restore.RowCheck; got -1: the table is missing). */
export interface RowCheck {
  recorded: boolean;
  tables: number;
  uncounted?: number;
  diffs?: { table: string; want: number; got: number }[] | null;
  error?: string;
}

export interface ImportedBackup extends BackupRow {
  database: string;
  serverVersion: string;
  rowsCounted: boolean;
  file?: string;
}

export interface DrillServer {
  set: boolean;
  address?: string;
  /** Without a drill server, drills run in a throwaway server of these programs, e.g. "PostgreSQL 17.10 (/usr/lib/postgresql/17/bin)". */
  local?: string;
  /** Why no throwaway server can run here, and what to install. */
  localProblem?: string;
}

export interface DrillPolicy {
  everyBackups: number;
  everyDays: number;
}

/** True when a Go zero time ("0001-01-01T00:00:00Z") or empty. */
export function isZeroTime(t: string | undefined | null): boolean {
  return !t || t.startsWith('0001-');
}

/** "3 days ago", "5 min ago", "just now" (a time a little in the future, from another clock, is "just now"). */
export function formatAge(iso: string, now = Date.now()): string {
  return formatRelative(Math.min(new Date(iso).getTime(), now), now);
}

const LONG_CALL_MS = 6 * 60 * 60 * 1000; // verify and drill read the whole backup: no small cap

export function verifyBackup(id: string): Promise<BackupCheck> {
  return call('verify the backup', async () => (await Restores.Verify(id)) as unknown as BackupCheck, LONG_CALL_MS);
}

export function drillBackup(id: string): Promise<BackupCheck> {
  return call('run a restore drill', async () => (await Restores.Drill(id)) as unknown as BackupCheck, LONG_CALL_MS);
}

export function lastCheck(db: string): Promise<LastCheck> {
  return call(`read when ${db} was last verified`, async () => (await Restores.LastCheck(db)) as unknown as LastCheck);
}

export function startRestore(r: RestoreRequest): Promise<void> {
  return call('start the restore', () => Restores.Start(r as unknown as Parameters<typeof Restores.Start>[0]));
}

export function cancelRestore(): Promise<void> {
  return call('cancel the restore', () => Restores.Cancel());
}

/** Subscribes to restore progress and completion events; returns the unsubscribe function. */
export function onRestoreEvents(progress: (p: RestoreProgress) => void, finished: (f: RestoreFinished) => void): () => void {
  return onProgressEvents('restore', progress, finished);
}

export function importBackupFile(path: string): Promise<ImportedBackup> {
  return call('import the backup file', async () => (await Restores.ImportFile(path)) as unknown as ImportedBackup, LONG_CALL_MS);
}

export function importedBackups(): Promise<ImportedBackup[]> {
  return call('list imported backups', async () => ((await Restores.Imported()) ?? []) as unknown as ImportedBackup[]);
}

/** The system's open-file dialog; "" when cancelled. */
export function chooseBackupFile(): Promise<string> {
  return call('open the file chooser', () => AppShell.ChooseBackupFile(), LONG_CALL_MS);
}

/** The system's folder chooser, starting at start when it is a folder; "" when cancelled. */
export function chooseFolder(title: string, start = ''): Promise<string> {
  return call('open the folder chooser', () => AppShell.ChooseFolder(title, start), LONG_CALL_MS);
}

export function drillServer(): Promise<DrillServer> {
  return call('read the drill server', async () => (await Restores.DrillServer()) as unknown as DrillServer);
}

export function setDrillServer(url: string): Promise<DrillServer> {
  return call('save the drill server', async () => (await Restores.SetDrillServer(url)) as unknown as DrillServer, 60_000);
}

export function drillPolicy(db: string): Promise<DrillPolicy> {
  return call('read the drill schedule', async () => (await Restores.DrillPolicy(db)) as unknown as DrillPolicy);
}

export function setDrillPolicy(db: string, p: DrillPolicy): Promise<void> {
  return call('save the drill schedule', () => Restores.SetDrillPolicy(db, p as unknown as Parameters<typeof Restores.SetDrillPolicy>[1]));
}

export function startBackup(db: string): Promise<void> {
  return call(`start a backup of ${db}`, () => Backups.Start(db));
}

export function cancelBackup(db: string): Promise<void> {
  return call(`cancel the backup of ${db}`, () => Backups.Cancel(db));
}

/** Stops PgSafe's agent (schedules, tray, jobs); the window closes once it has stopped. */
export function quitPgSafe(): Promise<void> {
  return call('quit PgSafe', () => AppShell.QuitPgSafe());
}

export function runningBackups(): Promise<BackupProgress[]> {
  return call('list running backups', async () => ((await Backups.Running()) ?? []) as unknown as BackupProgress[]);
}

export function listBackups(db: string, limit = 50): Promise<BackupRow[]> {
  return call(`list the backups of ${db}`, async () => ((await Backups.List(db, limit)) ?? []) as unknown as BackupRow[]);
}

/** Subscribes to "<kind>:progress" and "<kind>:finished" events; returns the unsubscribe function (a no-op outside the app). */
function onProgressEvents<P, F>(kind: string, progress: (p: P) => void, finished: (f: F) => void): () => void {
  try {
    const a = EventsOn(`${kind}:progress`, progress);
    const b = EventsOn(`${kind}:finished`, finished);
    return () => {
      a();
      b();
    };
  } catch {
    return () => {};
  }
}

/** Subscribes to backup progress and completion events; returns the unsubscribe function. */
export function onBackupEvents(progress: (p: BackupProgress) => void, finished: (f: BackupFinished) => void): () => void {
  return onProgressEvents('backup', progress, finished);
}

export type StorageKind = 'local' | 's3' | 'sftp' | 'webdav' | 'azure' | CloudKind;
/** Cloud drives PgSafe signs in to through the system browser (OAuth). */
export type CloudKind = 'gdrive' | 'dropbox' | 'onedrive';
export const cloudKinds: CloudKind[] = ['gdrive', 'dropbox', 'onedrive'];
/** The drive's name, and whose account one signs in with ("Sign in with Google"). */
export const cloudNames: Record<CloudKind, { service: string; company: string }> = {
  gdrive: { service: 'Google Drive', company: 'Google' },
  dropbox: { service: 'Dropbox', company: 'Dropbox' },
  onedrive: { service: 'OneDrive', company: 'Microsoft' },
};

export interface StorageView {
  id: number;
  name: string;
  kind: StorageKind | string;
  where: string;
  secretSet: boolean;
}

export interface StorageForm {
  name: string;
  kind: StorageKind;
  path: string;
  endpoint: string;
  region: string;
  bucket: string;
  prefix: string;
  pathStyle: boolean;
  storageClass: string;
  sse: string;
  accessKeyId: string;
  secretKey: string;
  /** S3 Object Lock: every backup undeletable this many days (0: none), in objectLockMode ('governance' or 'compliance'). */
  objectLockDays: number;
  objectLockMode: string;
  host: string;
  port: number;
  user: string;
  password: string;
  keyPath: string;
  keyPassphrase: string;
  hostKey: string;
  /** WebDAV: the folder's address, and a self-signed certificate's SHA-256 the user checked. */
  url: string;
  certSha256: string;
  /** WebDAV: the user agreed to send the password over plain http to another machine (the Go side refuses it without). */
  allowHttp: boolean;
  // Azure Blob Storage (and endpoint, prefix)
  account: string;
  container: string;
  accountKey: string;
  sas: string;
}

export function listStorages(): Promise<StorageView[]> {
  return call('list your storages', async () => (await Storages.List()) ?? []);
}

export function addStorage(f: StorageForm): Promise<void> {
  return call(`add storage ${f.name}`, () => Storages.Add(f as unknown as Parameters<typeof Storages.Add>[0]), 120_000);
}

export function testStorage(name: string): Promise<void> {
  return call(`test storage ${name}`, () => Storages.Test(name), 120_000);
}

export interface CloudForm {
  name: string;
  kind: CloudKind;
  folder: string;
}

/** A cloud drive's OAuth client: whether this build has one, and the user's own (the secret only as set or not). */
export type OAuthClient = engine.OAuthClient;

export function oauthClients(): Promise<OAuthClient[]> {
  return call('read the cloud drives’ OAuth clients', async () => (await Storages.OAuthClients()) ?? []);
}

/** Saves the user's own client for a cloud drive's next sign-in; an empty secret keeps the saved one (same client ID). */
export function setOAuthClient(kind: CloudKind, clientId: string, clientSecret: string): Promise<OAuthClient[]> {
  return call(`save your own ${cloudNames[kind].service} client`, async () => (await Storages.SetOAuthClient({ kind, clientId, clientSecret })) ?? []);
}

/** Forgets the user's own client for a cloud drive: the next sign-in uses this build's. */
export function clearOAuthClient(kind: CloudKind): Promise<OAuthClient[]> {
  return call(`clear your own ${cloudNames[kind].service} client`, async () => (await Storages.ClearOAuthClient(kind)) ?? []);
}

/**
 * A sign-in waiting for the browser: the provider's page is opened in the
 * system browser; done() resolves once the storage is signed in, tested and
 * saved; cancel() stops waiting.
 */
export interface SignIn {
  url: string;
  done: Promise<void>;
  cancel: () => void;
}

async function signIn(action: string, start: () => Promise<{ id: string; url: string }>): Promise<SignIn> {
  const st = await call(action, start, 60_000);
  openSignInPage(st.url);
  // The browser has up to 5 minutes (backend/oauth), then the storage is tested.
  const done = call(action, () => Storages.FinishSignIn(st.id), 8 * 60_000);
  return { url: st.url, done, cancel: () => void Storages.CancelSignIn(st.id) };
}

/** Signs in to a cloud drive and adds it as a storage. */
export function startCloudSignIn(f: CloudForm): Promise<SignIn> {
  return signIn(`sign in to ${cloudNames[f.kind].service}`, () => Storages.StartSignIn(f as unknown as Parameters<typeof Storages.StartSignIn>[0]));
}

/** Signs a cloud drive storage in again, after its permission was revoked or expired. */
export function startSignInAgain(storage: string): Promise<SignIn> {
  return signIn(`sign storage ${storage} in again`, () => Storages.StartSignInAgain(storage));
}

/** The provider's sign-in page, in the system browser: https, or a loopback address (tests' fake). */
function openSignInPage(url: string) {
  const u = new URL(url);
  if (u.protocol !== 'https:' && !(u.protocol === 'http:' && u.hostname === '127.0.0.1')) throw new Error(`not a sign-in page: ${url}`);
  BrowserOpenURL(u.toString());
}

export function removeStorage(name: string): Promise<void> {
  return call(`remove storage ${name}`, () => Storages.Remove(name));
}

export function storageHostKey(f: StorageForm): Promise<{ fingerprint: string; key: string }> {
  return call(`read the host key of ${f.host}`, () => Storages.HostKey(f as unknown as Parameters<typeof Storages.HostKey>[0]));
}

export function setDatabaseStorages(db: string, names: string[]): Promise<void> {
  return call(`choose the storages of ${db}`, () => Storages.SetDatabaseStorages(db, names));
}

// Sizes and durations: one module for the whole window (format.ts), kept here for the screens that import them from the API.
export { formatBytes, formatDuration };

export interface RoleSetupForm {
  adminUrl: string;
  role: string;
  saveAs: string;
  storages: string[];
  perSchema: boolean;
  revokePublicTemp: boolean;
  revokePublicCreate: boolean;
}

export interface RolePlan {
  sql: string;
  method: string;
  notes: string[] | null;
  writeRisks: string[] | null;
}

export function listDatabases(): Promise<DatabaseView[]> {
  return call('list your databases', async () => (await Databases.List()) ?? []);
}

/** How safe a database is (docs/STATUS.md): computed by the engine, the same as `pgsafe status`. */
export type SafetyState = 'protected' | 'attention' | 'failing' | 'unprotected';

export interface StatusReason {
  code: string;
  severity: SafetyState;
  message: string;
  since: string;
  action: string;
  /** The storage the reason is about (storage_sign_in: the one to sign in again). */
  storage?: string;
}

export interface DatabaseStatus {
  name: string;
  state: SafetyState;
  /** Worst first, then newest. */
  reasons: StatusReason[];
  lastGoodBackup: string | null;
  lastGoodSize: number;
  /** The newest backup that ended (null: none). */
  lastBackup: { id: string; status: string; started: string; error?: string } | null;
  /** The next scheduled backup (null: no schedule). */
  nextRun: string | null;
  /** The newest backups, oldest first (up to 30): the card's chart. */
  recent: { started: string; ok: boolean; storedSize: number; durationSeconds: number }[] | null;
  /** A server's database: the server entry's name. */
  server?: string;
  /** A server entry: its state is the worst of its databases'. */
  allDatabases?: boolean;
  /** A server entry: its databases (entry names) that were new on the server at its latest run. */
  appeared?: string[];
}

/** One event of the engine's stream (backend/ui/events.go): every job, whatever started it, and every state change. */
export interface EngineEvent {
  type: 'job.started' | 'job.progress' | 'job.finished' | 'status.changed';
  job?: 'backup' | 'verify' | 'drill' | 'restore';
  jobId?: string;
  database?: string;
  /** manual, scheduled, drill rule… */
  origin?: string;
  at: string;
  backup?: BackupProgress;
  restore?: { backupId: string; phase: string; readBytes: number; total: number; item?: string };
  outcome?: 'succeeded' | 'partial' | 'failed' | 'cancelled';
  error?: string;
  /** status.changed: the database's state now; null: it was removed. */
  status?: DatabaseStatus | null;
}

/** Calls fn with every engine event; returns the unsubscribe function (a no-op outside the app). */
/**
 * The window reached PgSafe's agent: at start, and again after the agent it
 * followed went away (killed, crashed) and the window started a new one. Jobs
 * the old agent ran will send no more events.
 */
export function onAgentConnected(fn: () => void): () => void {
  try {
    return EventsOn('agent:connected', fn);
  } catch {
    return () => {};
  }
}

export function onEngineEvent(fn: (ev: EngineEvent) => void): () => void {
  try {
    return EventsOn('engine:event', fn);
  } catch {
    return () => {};
  }
}

export function databaseStatus(): Promise<DatabaseStatus[]> {
  return call('read how safe your databases are', async () => ((await Databases.Status()) ?? []) as unknown as DatabaseStatus[]);
}

/** Calls fn whenever something that changes a database's state happened: a backup ended, a schedule ran, a health check changed. */
export function onStateEvents(fn: () => void): () => void {
  try {
    const offs = ['backup:finished', 'schedule:event', 'health:changed', 'restore:finished'].map((e) => EventsOn(e, fn));
    return () => offs.forEach((off) => off());
  } catch {
    return () => {};
  }
}

function normalizeCheck(r: CheckResult): CheckResult {
  return { ...r, report: { ...r.report, findings: r.report.findings ?? [], missing_read: r.report.missing_read ?? [] } };
}

// The generated model classes carry a helper method; plain objects are what
// actually cross the bridge.
function goForm(f: DatabaseForm): Parameters<typeof Databases.Test>[0] {
  return f as unknown as Parameters<typeof Databases.Test>[0];
}

export function testDatabase(f: DatabaseForm): Promise<CheckResult> {
  return call('test the connection', async () => normalizeCheck((await Databases.Test(goForm(f))) as unknown as CheckResult), 60_000);
}

export function addDatabase(f: DatabaseForm, allowWriteAccess: boolean): Promise<void> {
  return call('save the database', async () => {
    await Databases.Add(goForm(f), allowWriteAccess);
  }, 60_000);
}

export function removeDatabase(name: string): Promise<void> {
  return call('remove the database', () => Databases.Remove(name));
}

export function checkDatabase(name: string): Promise<CheckResult> {
  return call('check the database’s privileges', async () => normalizeCheck((await Databases.Check(name)) as unknown as CheckResult), 60_000);
}

// Managing a stored database (the database page's Manage section). Secrets
// are write-only: the connection comes back without them.

export interface ConnectionView {
  name: string;
  host: string;
  port: number;
  dbname: string;
  user: string;
  passwordSet: boolean;
  sslmode: string;
  sslRootCert: string;
  sslCert: string;
  sslKey: string;
  ssh: { host: string; port: number; user: string; keyPath: string; hostKey: string; passwordSet: boolean; keyPassphraseSet: boolean } | null;
  countRows: boolean;
  storages: string[];
  /** The newest privilege check's verdict; "" when never checked. */
  verdict: Verdict | '';
  checkedAt: string | null;
  /** "accepted": the role can change data and the user accepted it; "found": it can, not accepted. */
  writeAccess: '' | 'accepted' | 'found';
  /** Credentials commands: set or not, never what they are. */
  urlCommandSet?: boolean;
  passwordCommandSet?: boolean;
}

export interface EditResult {
  /** The database's name now. */
  name: string;
  /** The names of the changed fields (never their values). */
  changed: string[];
  server?: ServerInfo;
  report?: PrivilegeReport;
}

export function getConnection(name: string): Promise<ConnectionView> {
  return call(`read the connection of ${name}`, async () => (await Databases.Connection(name)) as unknown as ConnectionView);
}

/** Tests the edited connection (an empty password uses the stored one); nothing is saved. */
export function testConnectionChange(name: string, f: DatabaseForm): Promise<CheckResult> {
  return call('test the connection', async () => normalizeCheck((await Databases.TestChange(name, goForm(f))) as unknown as CheckResult), 60_000);
}

/** Tests and saves the edited connection; a role that can change data needs allowWriteAccess. */
export function updateConnection(name: string, f: DatabaseForm, allowWriteAccess: boolean): Promise<EditResult> {
  return call('save the connection', async () => (await Databases.Update(name, goForm(f), allowWriteAccess)) as unknown as EditResult, 60_000);
}

/** Re-runs the privilege check of the stored database (cancellable); its state follows the verdict. */
export function recheckDatabase(name: string): Promise<CheckResult> {
  return call('check the database’s privileges', async () => normalizeCheck((await Databases.Recheck(name)) as unknown as CheckResult), 60_000);
}

/** Stops a connection test, save or re-check under way for the database; nothing changes. */
export function cancelConnectionCheck(name: string): Promise<void> {
  return call('cancel the connection check', () => Databases.CancelCheck(name));
}

export function renameDatabase(name: string, newName: string): Promise<EditResult> {
  return call(`rename ${name}`, async () => (await Databases.Rename(name, newName)) as unknown as EditResult);
}

export function setCountRows(name: string, on: boolean): Promise<void> {
  return call('change the row-count setting', () => Databases.SetCountRows(name, on));
}

/** Creates a read-only role with the admin URL (used once, never stored) and makes the database use it. */
export function switchToReadOnlyRole(name: string, f: RoleSetupForm): Promise<{ role: string; report: PrivilegeReport; edit: EditResult }> {
  return call('switch to a read-only role', async () => {
    const r = (await Databases.SwitchToReadOnlyRole(name, f)) as unknown as { role: string; report: PrivilegeReport; edit: EditResult };
    return { ...r, report: { ...r.report, findings: r.report.findings ?? [], missing_read: r.report.missing_read ?? [] } };
  }, 60_000);
}

export function planRoleSetup(f: RoleSetupForm): Promise<RolePlan> {
  return call('prepare the read-only role', () => Databases.PlanRoleSetup(f), 60_000);
}

export function runRoleSetup(f: RoleSetupForm): Promise<PrivilegeReport> {
  return call('create the read-only role', async () => {
    const r = await Databases.RunRoleSetup(f);
    return (r.report as unknown as PrivilegeReport) ?? { verdict: 'read_only', findings: [], missing_read: [] };
  }, 60_000);
}

export interface AuditRecord {
  seq: number;
  at: string;
  actor: string;
  action: string;
  outcome: 'ok' | 'failed' | 'denied' | string;
  target?: string;
  fields?: Record<string, string>;
  message?: string;
  /** The entry in words; "{when}" stands for sentenceTime, written in the user's locale (activitySentence). */
  sentence?: string;
  sentenceTime?: string;
  kind?: ActivityKind | string;
  /** The database the entry is about, if any. */
  database?: string;
}

export type ActivityKind = 'backups' | 'checks' | 'restores' | 'settings' | 'security' | 'other';

/** An entry's sentence with its time in the user's locale; the action itself when there is none. */
export function activitySentence(r: AuditRecord): string {
  if (!r.sentence) return r.action;
  return r.sentenceTime ? r.sentence.split('{when}').join(formatDateTime(r.sentenceTime)) : r.sentence;
}

export interface AuditFilter {
  actionPrefix: string;
  /** '' any, 'ok', or 'failed': anything that did not go well (failed, denied, partial). */
  outcome: string;
  database: string;
  kind: ActivityKind | '';
  days: number;
  limit: number;
  offset: number;
}

export interface AuditReport {
  intact: boolean;
  entries: number;
  goodTo: number;
  brokenAt?: number;
  kind?: string;
  detail?: string;
  /** the audit.broken entry that records the break (new entries follow it) */
  recordedAt?: number;
}

export function listActivity(f: AuditFilter): Promise<AuditRecord[]> {
  return call('read the activity log', async () => ((await Activity.List(f)) ?? []) as unknown as AuditRecord[]);
}

export function verifyActivity(): Promise<AuditReport> {
  return call('verify the activity log', () => Activity.Verify(), 60_000);
}

/** Puts text on the system clipboard; resolves false when that was not possible. */
export async function copyText(text: string): Promise<boolean> {
  try {
    if (await ClipboardSetText(text)) return true;
  } catch {
    // Not inside the desktop app (a plain browser): try the web clipboard.
  }
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    return false;
  }
}

/** "15.18", "18beta1". */
export function formatVersion(v: PgVersion): string {
  return v.suffix ? `${v.major}${v.suffix}` : `${v.major}.${v.minor}`;
}

async function call<T>(action: string, fn: () => Promise<T>, timeoutMs = CALL_TIMEOUT_MS): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new ApiError(
              `Couldn’t ${action}`,
              `PgSafe did not answer within ${Math.round(timeoutMs / 1000)} seconds. It may be busy; try again in a moment.`,
              `timed out after ${timeoutMs} ms`,
            ),
          ),
        timeoutMs,
      );
    });
    // fn() may throw synchronously (bindings missing): run it inside the async frame.
    return await Promise.race([Promise.resolve().then(fn), timeout]);
  } catch (err) {
    throw toApiError(action, err);
  } finally {
    clearTimeout(timer);
  }
}

/** Turns whatever a bound call threw into words for the user. */
export function toApiError(action: string, err: unknown): ApiError {
  if (err instanceof ApiError) return err;
  const raw = rawMessage(err);
  const title = `Couldn’t ${action}`;
  if (isBridgeMissing(err, raw)) {
    return new ApiError(
      title,
      'This window lost its connection to PgSafe. Close PgSafe and open it again; your settings and backups are not affected.',
      raw,
    );
  }
  if (raw === '') {
    return new ApiError(title, 'PgSafe gave no reason. Try again; if it keeps happening, restart PgSafe.', String(err));
  }
  return new ApiError(title, sentence(raw), raw);
}

function rawMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  if (typeof err === 'string') return err;
  if (err && typeof err === 'object' && 'message' in err && typeof err.message === 'string') return err.message;
  if (err === undefined || err === null) return '';
  try {
    return JSON.stringify(err);
  } catch {
    return String(err);
  }
}

// window.go is injected by Wails; without it the generated bindings throw a
// TypeError about reading 'ui' or 'SystemService' of undefined.
function isBridgeMissing(err: unknown, raw: string): boolean {
  return err instanceof TypeError && /\b(go|ui|SystemService)\b|'(go|ui|SystemService)'/.test(raw);
}

function sentence(s: string): string {
  const t = s.trim();
  const capital = t.charAt(0).toUpperCase() + t.slice(1);
  return /[.!?]$/.test(capital) ? capital : `${capital}.`;
}

export interface HealthPolicy {
  intervalSeconds: number;
  failuresBeforeDown: number;
}

export interface HealthCheck {
  at: string;
  ok: boolean;
  latencyMs: number;
  error?: string;
}

export function healthPolicy(db: string): Promise<HealthPolicy> {
  return call('read the connection check', async () => (await Databases.HealthPolicy(db)) as unknown as HealthPolicy);
}

export function setHealthPolicy(db: string, p: HealthPolicy): Promise<void> {
  return call('save the connection check', () => Databases.SetHealthPolicy(db, p as unknown as Parameters<typeof Databases.SetHealthPolicy>[1]));
}

export function checkHealth(db: string): Promise<HealthCheck> {
  return call(`check the connection to ${db}`, async () => (await Databases.CheckHealth(db)) as unknown as HealthCheck, 60_000);
}

export function healthHistory(db: string, limit = 20): Promise<HealthCheck[]> {
  return call('read the connection checks', async () => ((await Databases.HealthHistory(db, limit)) ?? []) as unknown as HealthCheck[]);
}

export type NotifierKind = 'email' | 'slack' | 'discord' | 'teams' | 'telegram' | 'webhook' | 'desktop' | 'heartbeat';

export interface NotifierView {
  id: number;
  name: string;
  kind: NotifierKind | string;
  enabled: boolean;
  events: string[];
  settings: Record<string, string>;
  secretsSet: string[];
}

export interface NotifierForm {
  name: string;
  kind: NotifierKind;
  events: string[];
  settings: Record<string, string>;
  secrets: Record<string, string>;
}

export interface EventInfo {
  kind: string;
  label: string;
  default: boolean;
}

export function listNotifiers(): Promise<NotifierView[]> {
  return call('list the notifiers', async () => ((await Notifiers.List()) ?? []) as unknown as NotifierView[]);
}

export function notifierEvents(): Promise<EventInfo[]> {
  return call('list the notification events', async () => ((await Notifiers.Events()) ?? []) as unknown as EventInfo[]);
}

export function addNotifier(f: NotifierForm): Promise<void> {
  return call('save the notifier', () => Notifiers.Add(f as unknown as Parameters<typeof Notifiers.Add>[0]), 60_000);
}

export function testNotifierForm(f: NotifierForm): Promise<void> {
  return call('send a test notification', () => Notifiers.TestForm(f as unknown as Parameters<typeof Notifiers.TestForm>[0]), 120_000);
}

export function testNotifier(name: string): Promise<void> {
  return call(`send a test notification through ${name}`, () => Notifiers.Test(name), 120_000);
}

export function removeNotifier(name: string): Promise<void> {
  return call(`remove the notifier ${name}`, () => Notifiers.Remove(name));
}

export interface TrayStatus {
  available: boolean;
  reason?: string;
}

export function trayStatus(): Promise<TrayStatus> {
  return call('read the tray status', async () => (await System.TrayStatus()) as unknown as TrayStatus);
}

export function startAtLogin(): Promise<boolean> {
  return call('read the start-at-login setting', () => System.StartAtLogin());
}

export function setStartAtLogin(on: boolean): Promise<void> {
  return call('change the start-at-login setting', () => System.SetStartAtLogin(on));
}

/** What Settings shows about updates (Go's ui.UpdateStatus, generated). */
export type UpdateStatus = ui.UpdateStatus;

export function updateStatus(): Promise<UpdateStatus> {
  return call('read the update status', () => System.UpdateStatus());
}

/** Checks the release feed now ("Check now"); PgSafe downloads nothing. The check itself gives up after 30 s. */
export function checkForUpdates(): Promise<UpdateStatus> {
  return call('check for updates', () => System.CheckForUpdates(), 60_000);
}

export function setAutoUpdateChecks(on: boolean): Promise<void> {
  return call('change the update-check setting', () => System.SetAutoUpdateChecks(on));
}

/** Calls fn with each new update status (a check started or ended, the setting changed). */
export function onUpdateStatus(fn: (s: UpdateStatus) => void): () => void {
  try {
    return EventsOn('update:status', fn);
  } catch {
    return () => {};
  }
}

/** Opens an https page (a release's, from the update feed) in the system browser; anything else is refused. */
export function openInBrowser(url: string): boolean {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return false;
  }
  if (u.protocol !== 'https:') return false;
  BrowserOpenURL(u.toString());
  return true;
}

export type ScheduleKind = 'every' | 'daily' | 'weekly' | 'monthly' | 'cron';

export interface ScheduleForm {
  enabled: boolean;
  kind: ScheduleKind;
  everyMinutes: number;
  at: string;
  weekdays: number[];
  dayOfMonth: number;
  cron: string;
  timeZone: string;
}

export interface ScheduleView {
  set: boolean;
  form: ScheduleForm;
  description: string;
  lastRun: string;
  nextRun: string;
  problem?: string;
}

export interface SchedulerStatus {
  running: boolean;
  problem?: string;
  paused: boolean;
  pausedUntil: string;
  next?: string;
  /** Backed up next, at nextRun (a zero time: nothing scheduled, or paused). */
  nextDatabase?: string;
  nextRun?: string;
}

export interface RetentionPolicy {
  keep_last: number;
  keep_days: number;
  hourly: number;
  daily: number;
  weekly: number;
  monthly: number;
  yearly: number;
  max_size_bytes: number;
}

export interface RetentionView {
  policy: RetentionPolicy;
  description: string;
  /** Where a storage's Object Lock and the policy do not fit, one sentence each. */
  lockAdvice?: string[] | null;
}

type GoArg<F extends (...a: never[]) => unknown, N extends number> = Parameters<F>[N];

export function getSchedule(db: string): Promise<ScheduleView> {
  return call('read the schedule', async () => (await Schedules.Get(db)) as unknown as ScheduleView);
}

/** When the form would run, in words, and its next three runs in the user's locale. */
export async function describeSchedule(f: ScheduleForm): Promise<string> {
  const p = await call('read the schedule', async () => (await Schedules.Describe(f as unknown as GoArg<typeof Schedules.Describe, 0>)) as unknown as { description: string; next: string[] | null });
  return `${p.description} — next: ${(p.next ?? []).map(formatDateTime).join(', ')}`;
}

export function setSchedule(db: string, f: ScheduleForm): Promise<void> {
  return call('save the schedule', () => Schedules.Set(db, f as unknown as GoArg<typeof Schedules.Set, 1>));
}

export function clearSchedule(db: string): Promise<void> {
  return call('remove the schedule', () => Schedules.Clear(db));
}

export function schedulerStatus(): Promise<SchedulerStatus> {
  return call('read the scheduler status', async () => (await Schedules.Status()) as unknown as SchedulerStatus);
}

export function pauseSchedules(minutes: number): Promise<void> {
  return call('pause the schedules', () => Schedules.Pause(minutes));
}

export function resumeSchedules(): Promise<void> {
  return call('resume the schedules', () => Schedules.Resume());
}

export function getRetention(db: string): Promise<RetentionView> {
  return call('read the retention policy', async () => (await Schedules.Retention(db)) as unknown as RetentionView);
}

export function setRetention(db: string, p: RetentionPolicy): Promise<RetentionView> {
  return call('save the retention policy', async () => (await Schedules.SetRetention(db, p as unknown as GoArg<typeof Schedules.SetRetention, 1>)) as unknown as RetentionView);
}

// The recovery kit (docs/KEYS.md, "In the window"). Passphrases go to the Go
// side and are wiped there; only a generated one comes back, to be shown once.

export interface RecoveryKitInfo {
  keyId: string;
  /** The key lives in the keychain: only a kit brings it back. */
  needed: boolean;
  /** PgSafe created the key on this start. */
  keyCreated: boolean;
  saved: boolean;
  savedAt: string;
  savedPath?: string;
  /** "exported" or "imported". */
  savedHow?: string;
  postponed: boolean;
  /** Show the first-start welcome. */
  welcome: boolean;
  defaultPath: string;
}

export interface PassphraseCheck {
  ok: boolean;
  reason?: string;
  /** 0–100, for the meter; ok decides. */
  strength: number;
}

export interface ExportedKit {
  path: string;
  keyId: string;
  /** The kit file's text, to print. */
  text: string;
}

export interface KitCheck {
  path: string;
  kitKeyId: string;
  thisKeyId: string;
  same: boolean;
  databases: number;
  backups: number;
  canImport: boolean;
  blocked?: string;
}

export interface KitImported {
  keyId: string;
  unchanged: boolean;
  replaced?: string;
  keptAs?: string;
}

export function recoveryKit(): Promise<RecoveryKitInfo> {
  return call('read the recovery kit’s status', async () => (await System.RecoveryKit()) as unknown as RecoveryKitInfo);
}

export function postponeRecoveryKit(): Promise<void> {
  return call('postpone the recovery kit', () => System.PostponeRecoveryKit());
}

export function generatePassphrase(): Promise<string> {
  return call('generate a passphrase', () => System.GeneratePassphrase());
}

export function checkPassphrase(passphrase: string): Promise<PassphraseCheck> {
  return call('check the passphrase', async () => (await System.CheckPassphrase(passphrase)) as unknown as PassphraseCheck);
}

export function exportRecoveryKit(passphrase: string, path: string): Promise<ExportedKit> {
  return call('save the recovery kit', async () => (await System.ExportRecoveryKit(passphrase, path)) as unknown as ExportedKit, LONG_CALL_MS);
}

export function inspectRecoveryKit(path: string): Promise<KitCheck> {
  return call('read the recovery kit', async () => (await System.InspectRecoveryKit(path)) as unknown as KitCheck);
}

export function importRecoveryKit(path: string, passphrase: string, replace: boolean): Promise<KitImported> {
  return call('import the recovery kit', async () => (await System.ImportRecoveryKit(path, passphrase, replace)) as unknown as KitImported, LONG_CALL_MS);
}

/** The system's save dialog for a kit, starting at defaultPath; "" when cancelled. */
export function chooseKitSaveFile(defaultPath: string): Promise<string> {
  return call('open the file chooser', () => AppShell.ChooseKitSaveFile(defaultPath), LONG_CALL_MS);
}

/** The system's open dialog for a kit; "" when cancelled. */
export function chooseKitFile(): Promise<string> {
  return call('open the file chooser', () => AppShell.ChooseKitFile(), LONG_CALL_MS);
}
