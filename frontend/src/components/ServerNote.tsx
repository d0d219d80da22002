import { Alert } from '@mantine/core';
import type { DatabaseView } from '../api';

/** On a server entry's page, and on one of its databases' pages: how the two relate. */
export function ServerNote({ db }: { db: DatabaseView }) {
  if (db.allDatabases) {
    return (
      <Alert color="blue" variant="light" title="Every database on this server" data-testid="server-note">
        Each backup here is a run over the server&rsquo;s databases{db.exclude?.length ? ` (but ${db.exclude.join(', ')})` : ''}, each backed up on its own. Open a database from
        the Overview to verify or restore its backups. Its schedule, retention, drills, health checks and storages below apply to every one of them.
      </Alert>
    );
  }
  if (db.serverEntry) {
    const server = db.name.slice(0, Math.max(0, db.name.length - db.dbname.length - 1));
    return (
      <Alert color="blue" variant="light" title={`A database of the server entry ${server}`} data-testid="server-note">
        Its connection, storages, schedule, retention, drills and health checks are {server}&rsquo;s: change them on {server}&rsquo;s page.
      </Alert>
    );
  }
  return null;
}
