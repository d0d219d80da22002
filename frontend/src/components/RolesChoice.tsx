import { Alert, Button, Checkbox, Group, Radio, Stack, Text, TextInput } from '@mantine/core';
import { useState } from 'react';
import type { RolesProblem } from '../api';

/**
 * How to go on when the target lacks roles the backup names, or the restoring role cannot give objects to them
 * ('asis': no roles problem, only tablespaces), and whether to restore without tablespaces.
 */
export type RolesWay = ({ kind: 'create' } | { kind: 'map'; map: Record<string, string> } | { kind: 'drop' } | { kind: 'asis' }) & { noTablespaces?: boolean };

const list = (names: string[]) => names.join(', ');
const roles = (n: number) => (n === 1 ? '1 role' : `${n} roles`);

/** The roles check in words: what is missing (or cannot be owned), and the ways on, for the restore dialog. */
export function rolesHeadline(p: RolesProblem): string {
  const parts: string[] = [];
  const missing = p.missing ?? [];
  if (missing.length > 0) parts.push(`${roles(missing.length)} the backup needs ${missing.length === 1 ? 'is' : 'are'} missing on the target: ${list(missing)}.`);
  if ((p.cannotOwn ?? []).length > 0)
    parts.push(`The restoring user ${p.restoringRole ?? ''} is not a superuser nor a member of ${list(p.cannotOwn ?? [])}, so it cannot give objects to ${(p.cannotOwn ?? []).length === 1 ? 'that role' : 'those roles'}.`);
  if ((p.mapTargets ?? []).length > 0) parts.push(`The roles to give objects to do not exist on the target: ${list(p.mapTargets ?? [])}.`);
  const ts = p.missingTablespaces ?? [];
  if (ts.length > 0) parts.push(`The backup puts tables or indexes in ${ts.length === 1 ? 'a tablespace' : 'tablespaces'} the target lacks: ${list(ts)}.`);
  return parts.join(' ');
}

/**
 * The choices a roles problem leaves, in words: create the missing roles from
 * the ones saved with the backup, give their objects to roles that exist, or
 * restore without owners and privileges. Nothing was written before it.
 */
export function RolesChoice({ problem, onChoose, onCancel }: { problem: RolesProblem; onChoose: (way: RolesWay) => void; onCancel: () => void }) {
  const missing = problem.missing ?? [];
  const creatable = missing.length > 0 && (problem.creatable ?? []).length === missing.length && (problem.cannotOwn ?? []).length === 0;
  const toMap = Array.from(new Set([...missing, ...(problem.cannotOwn ?? [])]));
  const [way, setWay] = useState<RolesWay['kind']>(creatable ? 'create' : toMap.length > 0 ? 'map' : 'drop');
  const [map, setMap] = useState<Record<string, string>>({});
  const tablespaces = problem.missingTablespaces ?? [];
  const [noTablespaces, setNoTablespaces] = useState(tablespaces.length > 0);
  const rolesIssue = missing.length > 0 || (problem.cannotOwn ?? []).length > 0 || (problem.mapTargets ?? []).length > 0;
  const mapReady = toMap.every((r) => (map[r] ?? '').trim() !== '');
  let why = '';
  if (missing.length > 0 && !creatable) {
    if (problem.noSavedRoles) why = ` The backup has no saved roles to create them from: ${problem.noSavedRoles}.`;
    else if ((problem.undefined ?? []).length > 0) why = ` The roles saved with the backup do not define ${list(problem.undefined ?? [])}.`;
  }
  return (
    <Stack gap="sm" data-testid="restore-roles">
      <Alert color="yellow" variant="light" title={rolesIssue ? 'The target server lacks roles this backup needs' : 'The target server lacks tablespaces this backup uses'}>
        <Text size="sm" data-testid="restore-roles-headline">
          {rolesHeadline(problem)}
          {why} Nothing was written. Choose how to go on:
        </Text>
      </Alert>
      {tablespaces.length > 0 && (
        <Checkbox
          data-testid="restore-no-tablespaces"
          checked={noTablespaces}
          onChange={(e) => setNoTablespaces(e.currentTarget.checked)}
          label="Put everything in the target's default tablespace"
          description={`Or create ${list(tablespaces)} on the target server first, then restore again.`}
        />
      )}
      {rolesIssue && (
      <Radio.Group value={way} onChange={(v) => setWay(v as RolesWay['kind'])} aria-label="How to go on">
        <Stack gap="xs">
          {creatable && (
            <Radio
              value="create"
              label={`Create ${missing.length === 1 ? 'it' : 'them'} (without passwords, unable to log in)`}
              description="From the roles saved with the backup, with their memberships; roles that exist are not changed."
            />
          )}
          {toMap.length > 0 && <Radio value="map" label="Give their objects to another role…" description="Owners and grants go to roles that exist on the target." />}
          <Radio value="drop" label="Restore without owners and privileges" description="Every restored object belongs to the restoring user; no grants are restored." />
        </Stack>
      </Radio.Group>
      )}
      {rolesIssue && way === 'map' && (
        <Stack gap={4}>
          {toMap.map((r) => (
            <TextInput
              key={r}
              label={`Give the objects and grants of ${r} to`}
              placeholder="a role that exists on the target"
              value={map[r] ?? ''}
              onChange={(e) => {
                const v = e.currentTarget.value;
                setMap((m) => ({ ...m, [r]: v }));
              }}
              autoComplete="off"
              spellCheck={false}
            />
          ))}
        </Stack>
      )}
      <Group justify="flex-end">
        <Button variant="default" onClick={onCancel}>
          Close
        </Button>
        <Button
          disabled={(rolesIssue && way === 'map' && !mapReady) || (tablespaces.length > 0 && !noTablespaces)}
          onClick={() => {
            const base: RolesWay = !rolesIssue
              ? { kind: 'asis' }
              : way === 'map'
                ? { kind: 'map', map: Object.fromEntries(toMap.map((r) => [r, map[r].trim()])) }
                : way === 'create'
                  ? { kind: 'create' }
                  : { kind: 'drop' };
            onChoose({ ...base, noTablespaces: tablespaces.length > 0 && noTablespaces });
          }}
        >
          Restore again this way
        </Button>
      </Group>
    </Stack>
  );
}
