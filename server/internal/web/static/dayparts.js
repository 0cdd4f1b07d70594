// Dayparts the schedules form offers without cron: some weekdays, a start
// and an end time in the screen's local clock (Beijing time by default).
// These functions turn such a rule into the API's cron and duration_s,
// read a saved cron back when it has that shape, and put it into words.
// They touch no DOM, so the page and its tests share them.
//
// A rule is { days, start, end }: days are cron weekday numbers (0 =
// Sunday … 6 = Saturday), start and end minutes after midnight. An end at
// or before the start ends on the next day: 18:00–02:00 runs eight hours
// across midnight, 07:30–07:30 a whole day. nth, when set (1–5), keeps
// only the nth such weekday of the month: { days: [1], nth: 1 } is the
// first Monday. Standard cron cannot say that (with both day fields set it
// fires on either), so the server reads a weekday field "1#1" for it
// (playlists.ParseDaypart); it needs exactly one day.

import { t } from './i18n.js';

// WEEK is the order the form shows the days in: Monday first, as Chinese
// calendars do.
export const WEEK = [1, 2, 3, 4, 5, 6, 0];

export const PRESETS = {
  everyday: [0, 1, 2, 3, 4, 5, 6],
  workdays: [1, 2, 3, 4, 5],
  weekend: [6, 0],
};

const DAY_MINUTES = 24 * 60;

const pad = (n) => String(n).padStart(2, '0');

// clock is minutes after midnight as "HH:MM", 24-hour.
export const clock = (min) => `${pad(Math.floor(min / 60))}:${pad(min % 60)}`;

// parseClock reads "H:MM" or "HH:MM" (24-hour); null when it is not a time.
export function parseClock(s) {
  const m = /^(\d{1,2}):(\d{2})$/.exec(String(s || '').trim());
  if (!m) return null;
  const h = Number(m[1]);
  const min = Number(m[2]);
  return h < 24 && min < 60 ? h * 60 + min : null;
}

// crossesMidnight reports whether a window from start to end ends on the
// next day.
export const crossesMidnight = (start, end) => end <= start;

// durationS is the window's length in seconds.
export const durationS = (start, end) => ((end - start + DAY_MINUTES - 1) % DAY_MINUTES + 1) * 60;

const uniqueDays = (days) => [...new Set(days.map(Number))].filter((d) => Number.isInteger(d) && d >= 0 && d <= 6).sort((a, b) => a - b);

// dowField writes days as cron's weekday field: "*" for every day, runs of
// three or more as ranges ("1-5"), the rest as a list ("0,6").
export function dowField(days) {
  const ds = uniqueDays(days);
  if (ds.length === 7) return '*';
  const parts = [];
  for (let i = 0; i < ds.length;) {
    let j = i;
    while (j + 1 < ds.length && ds[j + 1] === ds[j] + 1) j++;
    if (j - i >= 2) parts.push(`${ds[i]}-${ds[j]}`);
    else for (let k = i; k <= j; k++) parts.push(String(ds[k]));
    i = j + 1;
  }
  return parts.join(',');
}

// NTH are the weeks of the month a rule may keep (0: every week).
export const NTH = [0, 1, 2, 3, 4, 5];

// toCron is the API's form of a rule: { cron, duration_s }, or null when
// no day is chosen, an nth rule has other than one day, or a time is out
// of range.
export function toCron(rule) {
  const ds = uniqueDays(rule.days || []);
  const ok = (m) => Number.isInteger(m) && m >= 0 && m < DAY_MINUTES;
  const nth = Number(rule.nth || 0);
  if (!ds.length || !ok(rule.start) || !ok(rule.end) || !NTH.includes(nth) || (nth && ds.length !== 1)) return null;
  return {
    cron: `${rule.start % 60} ${Math.floor(rule.start / 60)} * * ${nth ? `${ds[0]}#${nth}` : dowField(ds)}`,
    duration_s: durationS(rule.start, rule.end),
  };
}

// parseDow reads a weekday field of plain numbers, ranges and lists, or
// "*"; null for anything else (names, steps, 7 for Sunday, which the
// server's parser refuses anyway).
function parseDow(f) {
  if (f === '*' || f === '?') return [...PRESETS.everyday];
  const days = new Set();
  for (const part of f.split(',')) {
    const m = /^([0-6])(?:-([0-6]))?$/.exec(part);
    if (!m) return null;
    const a = Number(m[1]);
    const b = m[2] === undefined ? a : Number(m[2]);
    if (b < a) return null;
    for (let d = a; d <= b; d++) days.add(d);
  }
  return [...days].sort((x, y) => x - y);
}

// fromCron reads a saved cron and duration back as a rule, or null when
// the pickers cannot show it: anything but "minute hour * * weekdays"
// with plain numbers, or a duration that is not whole minutes up to a day.
export function fromCron(cron, duration) {
  const f = String(cron || '').trim().split(/\s+/);
  if (f.length !== 5 || f[2] !== '*' || f[3] !== '*') return null;
  if (!/^\d{1,2}$/.test(f[0]) || !/^\d{1,2}$/.test(f[1])) return null;
  const min = Number(f[0]);
  const hour = Number(f[1]);
  if (min > 59 || hour > 23) return null;
  const nthM = /^([0-6])#([1-5])$/.exec(f[4]);
  const days = nthM ? [Number(nthM[1])] : parseDow(f[4]);
  const d = Number(duration);
  if (!days || !Number.isInteger(d) || d < 60 || d > DAY_MINUTES * 60 || d % 60) return null;
  const start = hour * 60 + min;
  const rule = { days, start, end: (start + d / 60) % DAY_MINUTES };
  if (nthM) rule.nth = Number(nthM[2]);
  return rule;
}

// daysWords names the days: 每天, 工作日, or the days themselves in week
// order ("周六、周日"). tr is i18n's t.
export function daysWords(days, tr = t) {
  const ds = uniqueDays(days);
  if (ds.length === 7) return tr('sched.everyday');
  if (ds.join() === PRESETS.workdays.join()) return tr('sched.workdays');
  return WEEK.filter((d) => ds.includes(d)).map((d) => tr(`sched.day.${d}`)).join(tr('sched.daySep'));
}

// describe puts a rule into words: "工作日 07:30–09:00",
// "每天 18:00–次日 02:00".
export function describe(rule, tr = t) {
  const end = crossesMidnight(rule.start, rule.end) ? tr('sched.nextDay', { time: clock(rule.end) }) : clock(rule.end);
  const days = rule.nth
    ? tr('sched.nthDay', { nth: tr(`sched.nth.${rule.nth}`), day: tr(`sched.dayLong.${uniqueDays(rule.days)[0]}`) })
    : daysWords(rule.days, tr);
  return `${days} ${clock(rule.start)}–${end}`;
}

// describeCron is describe for a saved cron and duration, or null when
// the rule has no such words (see fromCron).
export function describeCron(cron, duration, tr = t) {
  const r = fromCron(cron, duration);
  return r ? describe(r, tr) : null;
}

// describeAny puts any saved rule into words: all day, the pickers' words,
// or the raw rule with its length. fmtDur formats seconds.
export function describeAny(cron, duration, fmtDur, tr = t) {
  if (!cron) return tr('sched.allDayRule');
  return describeCron(cron, duration, tr) || tr('sched.rawRule', { cron, dur: fmtDur(duration) });
}
