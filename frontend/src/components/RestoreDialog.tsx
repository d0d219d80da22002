import { Alert, Button, Checkbox, Group, Modal, NumberInput, PasswordInput, SegmentedControl, Stack, Text, TextInput } from '@mantine/core';
import { useEffect, useState } from 'react';
import {
  cancelRestore,
  onRestoreEvents,
  startRestore,
  toApiError,
  type ApiError,
  type RestoreFinished,
  type RestoreProgress,
  type RestoreRequest,
  type RestoreTargetKind,
} from '../api';
import { ErrorNotice } from './ErrorNotice';
import { RestoreEnd, RestoreProgressView } from './RestoreOutcome';
import { RolesChoice, type RolesWay } from './RolesChoice';
import { formatDateTime } from '../format';

/** The backup a restore starts from. */
export interface RestoreSource {
  backupId: string;
  /** What the backup is of, as the user named it. */
  label: string;
  started: string;
  storedSize: number;
  /** The backed-up database's server (user@host:port), when PgSafe knows it; imported backups have none. */
  server?: string;
  /** Restore from a file: the .pgsafe file that is read (not a storage's copy of the same backup). */
  file?: string;
}

const pad = (n: number) => String(n).padStart(2, '0');

/** A new database's default name, which needs no quoting in SQL: shop_restored_20261206_1402 (at = now). */
export function defaultRestoreName(label: string, at = new Date()): string {
  const base =
    label
      .normalize('NFKD')
      .replace(/[\u0300-\u036f]/g, '')
      .toLowerCase()
      .replace(/[^a-z0-9_]+/g, '_')
      .replace(/_+/g, '_')
      .replace(/^_|_$/g, '') || 'database';
  const suffix = `_restored_${at.getFullYear()}${pad(at.getMonth() + 1)}${pad(at.getDate())}_${pad(at.getHours())}${pad(at.getMinutes())}`;
  return ((/^[a-z_]/.test(base) ? base : `db_${base}`).slice(0, 63 - suffix.length) + suffix);
}

/** Why a new database's name is refused (it would need quoting, or PostgreSQL would cut it), or null; the Go side checks the same. */
export function newDatabaseNameProblem(name: string): string | null {
  const bytes = new TextEncoder().encode(name).length;
  if (bytes > 63) return `“${name}” is ${bytes} bytes long; PostgreSQL keeps 63 at most: choose a shorter name.`;
  if (!/^[a-z_][a-z0-9_]*$/.test(name)) return `“${name}” would need quoting in SQL: use lowercase letters, digits and _ only, starting with a letter (like shop_restored_20261206_1402).`;
  return null;
}

type Step = 'form' | 'confirm' | 'running' | 'done';

/**
 * Restore one backup: where to (a new database on the same server, another
 * server, or — guarded — over an existing database), pg_restore's options,
 * a confirmation naming exactly what happens, then progress and the result.
 * Write credentials go to the Go side for this restore only.
 */
export function RestoreDialog({ source, onClose }: { source: RestoreSource | null; onClose: () => void }) {
  const [step, setStep] = useState<Step>('form');
  const [target, setTarget] = useState<RestoreTargetKind>('same');
  const [user, setUser] = useState('');
  const [password, setPassword] = useState('');
  const [database, setDatabase] = useState('');
  const [url, setUrl] = useState('');
  const [confirm, setConfirm] = useState('');
  const [jobs, setJobs] = useState<number>(1);
  const [noOwner, setNoOwner] = useState(false);
  const [noPrivileges, setNoPrivileges] = useState(false);
  const [exclude, setExclude] = useState('');
  const [progress, setProgress] = useState<RestoreProgress | null>(null);
  const [finished, setFinished] = useState<RestoreFinished | null>(null);
  const [error, setError] = useState<ApiError | null>(null);

  useEffect(() => {
    if (!source) return;
    setStep('form');
    setTarget(source.server ? 'same' : 'url');
    setUser('');
    setPassword('');
    setDatabase(source.server ? defaultRestoreName(source.label) : '');
    setUrl('');
    setConfirm('');
    setProgress(null);
    setFinished(null);
    setError(null);
  }, [source]);

  useEffect(
    () =>
      onRestoreEvents(
        (p) => source && p.backupId === source.backupId && setProgress(p),
        (f) => {
          if (!source || f.backupId !== source.backupId) return;
          setFinished(f);
          setStep('done');
        },
      ),
    [source],
  );

  if (!source) return null;
  const when = formatDateTime(source.started);
  const where = target === 'url' ? describeUrl(url) : `${database} on ${source.server}`;
  const nameProblem = target === 'same' && database !== '' ? newDatabaseNameProblem(database) : null;
  const formReady = target === 'url' ? url.trim() !== '' : user.trim() !== '' && database.trim() !== '' && !nameProblem;
  const running = step === 'running';

  const request = (way?: RolesWay): RestoreRequest => ({
    backupId: source.backupId,
    file: source.file,
    target,
    user,
    password,
    database,
    url,
    confirm,
    jobs: Math.max(1, jobs || 1),
    noOwner: noOwner || way?.kind === 'drop',
    noPrivileges: noPrivileges || way?.kind === 'drop',
    noTablespaces: way?.noTablespaces ?? false,
    excludeExtensions: exclude.split(',').map((s) => s.trim()).filter(Boolean),
    createRoles: way?.kind === 'create',
    roleMap: way?.kind === 'map' ? way.map : undefined,
  });
  const start = async (way?: RolesWay) => {
    setError(null);
    try {
      await startRestore(request(way));
      setProgress({ backupId: source.backupId, phase: 'checking', readBytes: 0, total: source.storedSize });
      setStep('running');
    } catch (e) {
      setError(toApiError('start the restore', e));
    }
  };

  return (
    <Modal opened onClose={running ? () => {} : onClose} title={`Restore ${source.label} from ${when}`} size="lg" closeOnEscape={!running} withCloseButton={!running}>
      {step === 'form' && (
        <Stack gap="sm">
          <SegmentedControl
            value={target}
            onChange={(v) => setTarget(v as RestoreTargetKind)}
            data={[
              { value: 'same', label: 'New database, same server', disabled: !source.server },
              { value: 'url', label: 'Another server' },
              { value: 'replace', label: 'Replace a database', disabled: !source.server },
            ]}
          />
          {!source.server && (
            <Text size="sm" c="dimmed">
              This backup was imported, so PgSafe does not know its server: name the target by its URL.
            </Text>
          )}
          {target === 'url' ? (
            <TextInput
              label="Target database URL"
              description="A user who may create databases; the database in the URL is created and must not exist yet. Used for this restore only, never stored."
              placeholder="postgres://user:password@host:5432/newdb"
              value={url}
              onChange={(e) => setUrl(e.currentTarget.value)}
              autoComplete="off"
              spellCheck={false}
            />
          ) : (
            <>
              <Text size="sm">
                Server: <b>{source.server}</b> (its address, TLS and SSH settings as saved)
              </Text>
              <Group grow>
                <TextInput label="User with write access" value={user} onChange={(e) => setUser(e.currentTarget.value)} autoComplete="off" />
                <PasswordInput label="Password" description="Used once, never stored" value={password} onChange={(e) => setPassword(e.currentTarget.value)} autoComplete="new-password" />
              </Group>
              <TextInput
                label={target === 'replace' ? 'Database to replace (must exist)' : 'New database (must not exist yet)'}
                value={database}
                onChange={(e) => setDatabase(e.currentTarget.value)}
                error={nameProblem}
                autoComplete="off"
                spellCheck={false}
              />
            </>
          )}
          <Checkbox
            label="Objects belong to the restoring user (--no-owner)"
            description="Otherwise they keep their owners; roles missing on the target are named before anything is written."
            checked={noOwner}
            onChange={(e) => setNoOwner(e.currentTarget.checked)}
          />
          <Checkbox label="Skip GRANT and REVOKE (--no-privileges)" checked={noPrivileges} onChange={(e) => setNoPrivileges(e.currentTarget.checked)} />
          <Group grow align="start">
            <NumberInput
              label="Parallel jobs"
              description={jobs > 1 ? 'The backup is decrypted to a private temporary folder first, deleted afterwards' : 'Streams from the storage; nothing decrypted touches disk'}
              min={1}
              max={16}
              value={jobs}
              onChange={(v) => setJobs(Number(v) || 1)}
            />
            <TextInput label="Leave out extensions" description="Comma-separated, for services that forbid some" placeholder="pg_stat_statements" value={exclude} onChange={(e) => setExclude(e.currentTarget.value)} />
          </Group>
          <Group justify="flex-end">
            <Button variant="default" onClick={onClose}>
              Cancel
            </Button>
            <Button onClick={() => setStep('confirm')} disabled={!formReady}>
              Continue
            </Button>
          </Group>
        </Stack>
      )}

      {step === 'confirm' && (
        <Stack gap="sm">
          {target === 'replace' ? (
            <Alert color="red" variant="light" title={`Replace ${database}?`} data-testid="restore-confirm">
              The objects of <b>{database}</b> on {source.server} that are in the backup are dropped and re-created from the backup of {source.label} taken {when}. Whatever was
              written to them since then is lost. The whole backup is read and authenticated before anything is dropped.
            </Alert>
          ) : (
            <Alert color="blue" variant="light" title="Ready to restore" data-testid="restore-confirm">
              PgSafe will create the database <b>{where}</b> and restore the backup of {source.label} taken {when} into it. Nothing existing is changed.
            </Alert>
          )}
          {target === 'replace' && (
            <TextInput label={`Type ${database} to confirm`} value={confirm} onChange={(e) => setConfirm(e.currentTarget.value)} autoComplete="off" data-autofocus />
          )}
          {error && <ErrorNotice error={error} />}
          <Group justify="flex-end">
            <Button variant="default" onClick={() => setStep('form')}>
              Back
            </Button>
            <Button color={target === 'replace' ? 'red' : undefined} onClick={() => start()} disabled={target === 'replace' && confirm !== database}>
              {target === 'replace' ? `Replace ${database}` : 'Restore'}
            </Button>
          </Group>
        </Stack>
      )}

      {step === 'running' && progress && (
        <Stack gap="sm" data-testid="restore-progress" aria-live="polite">
          <RestoreProgressView progress={progress} parallel={jobs > 1 || exclude.trim() !== ''} />
          <Group justify="flex-end">
            <Button variant="default" color="red" onClick={() => cancelRestore().catch((e) => setError(toApiError('cancel the restore', e)))}>
              Cancel restore
            </Button>
          </Group>
          {error && <ErrorNotice error={error} />}
        </Stack>
      )}

      {step === 'done' && finished?.roles && (
        <Stack gap="sm">
          <RolesChoice problem={finished.roles} onChoose={(way) => start(way)} onCancel={onClose} />
          {error && <ErrorNotice error={error} />}
        </Stack>
      )}

      {step === 'done' && finished && !finished.roles && (
        <Stack gap="sm" data-testid="restore-finished">
          <RestoreEnd finished={finished} />
          <Group justify="flex-end">
            <Button onClick={onClose}>Close</Button>
          </Group>
        </Stack>
      )}
    </Modal>
  );
}

/** "newdb on host:5432" from a URL, without its password. */
export function describeUrl(url: string): string {
  try {
    const u = new URL(url.trim());
    const db = decodeURIComponent(u.pathname.replace(/^\//, '')) || '(no database named)';
    return `${db} on ${u.hostname}${u.port ? `:${u.port}` : ''}`;
  } catch {
    return 'the database the URL names';
  }
}
