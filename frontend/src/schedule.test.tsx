import { screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import * as api from './api';
import { RetentionPanel } from './components/RetentionPanel';
import { SchedulePanel } from './components/SchedulePanel';
import { renderWithTheme } from './test/render';
import { leaveGuarded, UnsavedChangesDialog } from './unsaved';

vi.mock('./api', async (importOriginal) => {
  const real = await importOriginal<typeof import('./api')>();
  return { ...real, getSchedule: vi.fn(), describeSchedule: vi.fn(), setSchedule: vi.fn(), clearSchedule: vi.fn(), getRetention: vi.fn(), setRetention: vi.fn() };
});

const m = vi.mocked;

beforeEach(() => {
  m(api.getSchedule).mockResolvedValue({
    set: true, description: 'daily at 02:00', lastRun: '0001-01-01T00:00:00Z', nextRun: '2026-11-24T02:00:00Z',
    form: { enabled: true, kind: 'daily', everyMinutes: 0, at: '02:00', weekdays: [], dayOfMonth: 0, cron: '', timeZone: '' },
  });
  m(api.describeSchedule).mockImplementation(async (f) => {
    if (f.kind === 'weekly' && f.weekdays.length === 0) throw new api.ApiError('Couldn’t read the schedule', 'A weekly schedule needs at least one day.', 'x');
    // As the Go side says it (backend/schedule): an interval under a minute is refused.
    if (f.kind === 'every' && f.everyMinutes < 1) throw new api.ApiError('Couldn’t read the schedule', `every ${f.everyMinutes * 60} s is too often: the interval must be at least 1 min`, 'x');
    if (f.kind === 'every') return `every ${f.everyMinutes} min — next: …`;
    return `${f.kind} — next: …`;
  });
  m(api.setSchedule).mockResolvedValue();
  m(api.getRetention).mockResolvedValue({ policy: { keep_last: 7, keep_days: 0, hourly: 0, daily: 0, weekly: 0, monthly: 0, yearly: 0, max_size_bytes: 0 }, description: 'keep the newest 7' });
  m(api.setRetention).mockImplementation(async (_db, p) => ({ policy: p, description: `keep the newest ${p.keep_last}, 4 weekly` }));
});

describe('schedule', () => {
  it('shows the schedule, explains a wrong one and saves a weekly one', async () => {
    const user = userEvent.setup();
    renderWithTheme(<SchedulePanel db="shop" />);
    expect(await screen.findByTestId('schedule-status')).toHaveTextContent('daily at 02:00');
    await user.click(screen.getByText('Weekly'));
    // The preview of the daily schedule stays until the weekly one's answer arrives.
    await waitFor(() => expect(screen.getByTestId('schedule-preview')).toHaveTextContent('needs at least one day'));
    expect(screen.getByRole('button', { name: 'Save schedule' })).toBeDisabled();
    await user.click(screen.getByText('Mon'));
    await user.click(screen.getByText('Fri'));
    await waitFor(() => expect(screen.getByRole('button', { name: 'Save schedule' })).toBeEnabled());
    await user.click(screen.getByRole('button', { name: 'Save schedule' }));
    expect(api.setSchedule).toHaveBeenCalledWith('shop', expect.objectContaining({ kind: 'weekly', weekdays: [1, 5], at: '02:00', enabled: true }));
  });
});

describe('schedule: the Every tab', () => {
  it('shows 60 minutes and checks and saves 60, not 0 (“every 0 s is too often” until retyped)', async () => {
    const user = userEvent.setup();
    renderWithTheme(<SchedulePanel db="shop" />);
    await screen.findByTestId('schedule-status');
    await user.click(screen.getByText('Every'));
    const minutes = screen.getByLabelText('Every (minutes)');
    expect(minutes).toHaveValue('60');
    await waitFor(() => expect(screen.getByTestId('schedule-preview')).toHaveTextContent('every 60 min'));
    expect(screen.getByTestId('schedule-preview')).not.toHaveTextContent('too often');
    expect(api.describeSchedule).toHaveBeenLastCalledWith(expect.objectContaining({ kind: 'every', everyMinutes: 60 }));
    expect(screen.getByText('= 1 h')).toBeInTheDocument();
    await user.click(screen.getByRole('button', { name: 'Save schedule' }));
    expect(api.setSchedule).toHaveBeenCalledWith('shop', expect.objectContaining({ kind: 'every', everyMinutes: 60 }));
  });

  it('an emptied field is explained, and a typed interval is shown in words', async () => {
    const user = userEvent.setup();
    renderWithTheme(<SchedulePanel db="shop" />);
    await screen.findByTestId('schedule-status');
    await user.click(screen.getByText('Every'));
    const minutes = screen.getByLabelText('Every (minutes)');
    await user.clear(minutes);
    await waitFor(() => expect(screen.getByTestId('schedule-preview')).toHaveTextContent('too often'));
    expect(screen.getByRole('button', { name: 'Save schedule' })).toBeDisabled();
    await user.type(minutes, '150');
    await waitFor(() => expect(screen.getByTestId('schedule-preview')).toHaveTextContent('every 150 min'));
    expect(screen.getByText('= 2 h 30 min')).toBeInTheDocument();
  });
});

describe('unsaved changes', () => {
  it('an edited panel says so next to Save, and leaving asks first', async () => {
    const user = userEvent.setup();
    const go = vi.fn();
    renderWithTheme(
      <>
        <SchedulePanel db="shop" />
        <UnsavedChangesDialog />
      </>,
    );
    await screen.findByTestId('schedule-status');
    expect(screen.queryByTestId('unsaved-hint')).toBeNull();
    leaveGuarded(go);
    expect(go).toHaveBeenCalledTimes(1); // nothing unsaved: leaves at once

    await user.click(screen.getByText('Weekly'));
    await user.click(screen.getByText('Mon'));
    expect(screen.getByTestId('unsaved-hint')).toHaveTextContent('Unsaved changes');
    leaveGuarded(go);
    const dialog = await screen.findByRole('dialog', { name: 'Leave without saving?' });
    expect(dialog).toHaveTextContent('Schedule');
    await user.click(screen.getByRole('button', { name: 'Stay and save' }));
    await waitFor(() => expect(screen.queryByRole('dialog')).toBeNull());
    expect(go).toHaveBeenCalledTimes(1);

    leaveGuarded(go);
    await user.click(await screen.findByRole('button', { name: 'Leave without saving' }));
    expect(go).toHaveBeenCalledTimes(2);
  });

  it('saving clears the hint, and then leaving does not ask', async () => {
    const user = userEvent.setup();
    const go = vi.fn();
    renderWithTheme(<RetentionPanel db="shop" />);
    await waitFor(() => expect(screen.getByTestId('retention-description')).toHaveTextContent('keep the newest 7'));
    const weekly = screen.getByLabelText('Weekly');
    await user.clear(weekly);
    await user.type(weekly, '4');
    expect(screen.getByTestId('unsaved-hint')).toBeInTheDocument();
    await user.click(screen.getByRole('button', { name: 'Save retention' }));
    await waitFor(() => expect(screen.queryByTestId('unsaved-hint')).toBeNull());
    leaveGuarded(go);
    expect(go).toHaveBeenCalledTimes(1);
  });
});

describe('retention', () => {
  it('saves a policy and says what it keeps', async () => {
    const user = userEvent.setup();
    renderWithTheme(<RetentionPanel db="shop" />);
    await waitFor(() => expect(screen.getByTestId('retention-description')).toHaveTextContent('keep the newest 7'));
    const weekly = screen.getByLabelText('Weekly');
    await user.clear(weekly);
    await user.type(weekly, '4');
    await user.click(screen.getByRole('button', { name: 'Save retention' }));
    expect(api.setRetention).toHaveBeenCalledWith('shop', expect.objectContaining({ keep_last: 7, weekly: 4 }));
    await waitFor(() => expect(screen.getByTestId('retention-description')).toHaveTextContent('4 weekly'));
  });
});
