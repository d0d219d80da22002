/**
 * How the window says sizes, durations and dates: one module, so every page says them alike.
 * Sizes and durations follow backend/human (Go) to the letter: "34.8 MB", "2 h 30 min", never Go's "1m0s".
 * Dates and times are in the user's locale (Intl.DateTimeFormat); the words around them stay the app's English.
 */

const byteUnits = ['kB', 'MB', 'GB', 'TB', 'PB', 'EB'];

/** 1234567 → "1.2 MB" (decimal units, as file managers show); 999 → "999 B". */
export function formatBytes(n: number): string {
  if (!Number.isFinite(n) || n < 1000) return `${Math.max(0, Math.round(n || 0))} B`;
  let v = n;
  let i = -1;
  while (v >= 1000 && i < byteUnits.length - 1) {
    v /= 1000;
    i++;
  }
  if (v >= 100) return `${Math.round(v)} ${byteUnits[i]}`;
  const s = v.toFixed(1);
  return s === '100.0' ? `100 ${byteUnits[i]}` : `${s} ${byteUnits[i]}`;
}

function join(a: number, au: string, b: number, bu: string): string {
  return b === 0 ? `${a} ${au}` : `${a} ${au} ${b} ${bu}`;
}

/** Seconds in words: 0.4 → "under 1 s", 95 → "1 min 35 s", 60 → "1 min", 9000 → "2 h 30 min", 108000 → "1 day 6 h". */
export function formatDuration(seconds: number): string {
  if (seconds > 0 && seconds < 1) return 'under 1 s';
  const s = Math.max(0, Math.round(Number.isFinite(seconds) ? seconds : 0));
  const m = Math.floor(s / 60);
  if (s < 60) return `${s} s`;
  if (m < 60) return join(m, 'min', s % 60, 's');
  if (m < 24 * 60) return join(Math.floor(m / 60), 'h', m % 60, 'min');
  const days = Math.floor(m / (24 * 60));
  return join(days, days === 1 ? 'day' : 'days', Math.floor(m / 60) % 24, 'h');
}

/** Minutes in words: 60 → "1 h", 90 → "1 h 30 min". */
export function formatMinutes(minutes: number): string {
  return formatDuration(minutes * 60);
}

type DateInput = string | number | Date;

function toDate(t: DateInput): Date {
  return t instanceof Date ? t : new Date(t);
}

const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
const dateOnly = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium' });
const timeOnly = new Intl.DateTimeFormat(undefined, { timeStyle: 'short' });
const timeSeconds = new Intl.DateTimeFormat(undefined, { timeStyle: 'medium' });

/** A date and time in the user's locale, e.g. "5 Dec 2026, 14:02" or "Dec 5, 2026, 2:02 PM". */
export function formatDateTime(t: DateInput): string {
  const d = toDate(t);
  return Number.isNaN(d.getTime()) ? '' : dateTime.format(d);
}

/** A date in the user's locale. */
export function formatDate(t: DateInput): string {
  const d = toDate(t);
  return Number.isNaN(d.getTime()) ? '' : dateOnly.format(d);
}

/** A time of day in the user's locale; seconds on request. */
export function formatTime(t: DateInput, withSeconds = false): string {
  const d = toDate(t);
  return Number.isNaN(d.getTime()) ? '' : (withSeconds ? timeSeconds : timeOnly).format(d);
}

/** How long ago (or how soon): "just now", "5 min ago", "3 h ago", "2 days ago", "in 20 min", "in 2 days". */
export function formatRelative(t: DateInput, now: number = Date.now()): string {
  const diff = Math.round((now - toDate(t).getTime()) / 1000);
  const s = Math.abs(diff);
  if (s < 60) return 'just now';
  const m = Math.floor(s / 60);
  const h = Math.floor(m / 60);
  const words = m < 60 ? `${m} min` : h < 48 ? `${h} h` : `${Math.floor(h / 24)} days`;
  return diff >= 0 ? `${words} ago` : `in ${words}`;
}
