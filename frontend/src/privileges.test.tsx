import { screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import type { PrivilegeReport } from './api';
import { PrivilegeReportView } from './components/PrivilegeReportView';
import { renderWithTheme } from './test/render';

// The role PgSafe's guided setup creates, on a database with PostgreSQL's
// defaults: TEMPORARY through PUBLIC is a note, and the role is read-only ✓.
const guidedRole: PrivilegeReport = {
  verdict: 'read_only',
  findings: [
    { code: 'database_temp', severity: 'info', object: 'database shop', detail: 'Like every role, it can create temporary tables here: PostgreSQL grants TEMPORARY on every database to PUBLIC by default.', fix_sql: '-- optional, for every role:\nREVOKE TEMPORARY ON DATABASE shop FROM PUBLIC;' },
    { code: 'member_of_pg_read_all_data', severity: 'info', object: 'role pg_read_all_data', detail: 'It reads everything: exactly what a backup needs.', fix_sql: '' },
  ],
  missing_read: [],
};

const superuser: PrivilegeReport = {
  verdict: 'write_access',
  findings: [
    {
      code: 'superuser', severity: 'write', object: 'role postgres',
      detail: 'postgres is a superuser. Leave it as it is: back up with a dedicated read-only role instead.',
      fix_sql: "-- Do not take superuser away from this role\nBEGIN;\nCREATE ROLE pgsafe_backup LOGIN NOSUPERUSER INHERIT;\nGRANT pg_read_all_data TO pgsafe_backup;\nCOMMIT;",
    },
  ],
  missing_read: [],
};

describe('privilege report', () => {
  it('the guided-setup role reads “Read-only ✓”: notes are collapsed apart, never warnings', async () => {
    renderWithTheme(<PrivilegeReportView report={guidedRole} />);
    const verdict = screen.getByTestId('verdict');
    expect(verdict).toHaveTextContent('Read-only ✓');
    expect(verdict).toHaveAttribute('data-verdict', 'read_only');
    expect(screen.queryByText('warning')).toBeNull();
    const notes = screen.getByTestId('privilege-notes');
    expect(notes).toHaveTextContent('2 notes: worth knowing, nothing to do');
    await userEvent.click(within(notes).getByText(/2 notes/));
    const temp = within(notes).getAllByTestId('finding').find((f) => f.dataset.code === 'database_temp')!;
    expect(temp).toHaveAttribute('data-severity', 'info');
    expect(temp).toHaveTextContent('note');
  });

  it('a superuser is pointed to the dedicated read-only role, not told to lose superuser', async () => {
    renderWithTheme(<PrivilegeReportView report={superuser} />);
    expect(screen.getByTestId('verdict')).toHaveAttribute('data-verdict', 'write_access');
    expect(screen.getByText(/let PgSafe’s guided setup create a dedicated read-only role/)).toBeInTheDocument();
    await userEvent.click(screen.getByText('role postgres'));
    expect(screen.getByText(/dedicated read-only role PgSafe’s guided setup creates/)).toBeInTheDocument();
    expect(screen.queryByText(/ALTER ROLE postgres NOSUPERUSER/)).toBeNull();
    expect(screen.queryByTestId('privilege-notes')).toBeNull();
  });
});
