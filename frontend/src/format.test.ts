import { describe, expect, it } from 'vitest';
import { formatBytes, formatDate, formatDateTime, formatDuration, formatMinutes, formatRelative, formatTime } from './format';

describe('format', () => {
  it('sizes in decimal units, as backend/human says them', () => {
    const cases: [number, string][] = [
      [-5, '0 B'], [0, '0 B'], [999, '999 B'], [1000, '1.0 kB'], [1_234_567, '1.2 MB'], [34_800_000, '34.8 MB'],
      [123_456_789, '123 MB'], [99_960_000, '100 MB'], [5e12, '5.0 TB'], [NaN, '0 B'],
    ];
    for (const [n, want] of cases) expect(formatBytes(n)).toBe(want);
  });

  it('durations in words, never Go’s 1m0s', () => {
    const cases: [number, string][] = [
      [0, '0 s'], [0.4, 'under 1 s'], [2, '2 s'], [1.6, '2 s'], [60, '1 min'], [95, '1 min 35 s'], [3600, '1 h'],
      [9000, '2 h 30 min'], [9020, '2 h 30 min'], [86400, '1 day'], [108000, '1 day 6 h'], [7 * 86400, '7 days'], [-1, '0 s'],
    ];
    for (const [s, want] of cases) expect(formatDuration(s)).toBe(want);
    expect(formatMinutes(60)).toBe('1 h');
    expect(formatMinutes(90)).toBe('1 h 30 min');
  });

  it('dates and times in the user’s locale (Intl), one format everywhere', () => {
    const iso = '2026-12-05T14:02:00Z';
    const d = new Date(iso);
    expect(formatDateTime(iso)).toBe(new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' }).format(d));
    expect(formatDateTime(d)).toBe(formatDateTime(iso));
    expect(formatDate(iso)).toBe(new Intl.DateTimeFormat(undefined, { dateStyle: 'medium' }).format(d));
    expect(formatTime(iso)).toBe(new Intl.DateTimeFormat(undefined, { timeStyle: 'short' }).format(d));
    expect(formatDateTime('not a date')).toBe('');
  });

  it('relative times, past and future', () => {
    const now = Date.parse('2026-12-05T12:00:00Z');
    expect(formatRelative('2026-12-05T11:59:30Z', now)).toBe('just now');
    expect(formatRelative('2026-12-05T11:55:00Z', now)).toBe('5 min ago');
    expect(formatRelative('2026-12-05T09:00:00Z', now)).toBe('3 h ago');
    expect(formatRelative('2026-12-02T12:00:00Z', now)).toBe('3 days ago');
    expect(formatRelative('2026-12-05T12:20:00Z', now)).toBe('in 20 min');
  });
});
