import { Checkbox, Stack, TagsInput, Text } from '@mantine/core';
import type { DatabaseForm } from '../api';

interface Props {
  form: DatabaseForm;
  setForm: (f: DatabaseForm) => void;
}

/** The wizard's choice between one database and every database of the server, with the ones to leave out. */
export function ServerScopeFields({ form, setForm }: Props) {
  const all = !!form.allDatabases;
  return (
    <Stack gap={6}>
      <Checkbox
        label="Back up every database on this server"
        description="Each backup lists the server’s databases and backs up each one, new ones included. The database above is the one PgSafe lists them from."
        checked={all}
        onChange={(e) => setForm({ ...form, allDatabases: e.currentTarget.checked, exclude: e.currentTarget.checked ? form.exclude ?? [] : [] })}
        data-testid="all-databases"
      />
      {all && (
        <>
          <TagsInput
            label="Leave out these databases"
            placeholder="Type a name and press Enter"
            value={form.exclude ?? []}
            onChange={(v) => setForm({ ...form, exclude: v })}
            data-testid="exclude-databases"
          />
          <Text size="xs" c="dimmed">
            Templates are always left out. A database that disappears from the server keeps its backups.
          </Text>
        </>
      )}
    </Stack>
  );
}
