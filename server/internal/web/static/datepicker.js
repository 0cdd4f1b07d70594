// A date field that does not depend on the browser's locale: a text box
// showing YYYY-MM-DD (a calendar day in Beijing time, like every date on
// this page) and a month grid that opens beside it. <input type=date>
// would draw the operating system's format (mm/dd/yyyy in an English
// Chromium), which the district office cannot read reliably.
//
// Keyboard: in the text box, Alt+Down (or the button) opens the grid. In
// the grid the arrow keys move a day or a week, Page Up / Page Down a
// month (with Shift a year), Home / End the week's Monday / Sunday, Enter
// or Space picks, Escape closes and returns to the text box. Dates are
// handled as UTC calendar days, so no zone of the browser can shift them.

import { el } from './kit.js';
import { t } from './i18n.js';

// WEEK_ORDER is Monday first, as Chinese calendars are; values are the
// catalogue's weekday numbers (0 = Sunday).
const WEEK_ORDER = [1, 2, 3, 4, 5, 6, 0];
const DAY = 86400000;

const pad = (n) => String(n).padStart(2, '0');

// isoDay is a UTC-midnight Date as YYYY-MM-DD.
export const isoDay = (d) => `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`;

// parseDay reads YYYY-MM-DD (also with / or . and without leading zeros)
// as a UTC-midnight Date; null when it is not a real calendar day.
export function parseDay(s) {
  const m = /^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})$/.exec(String(s || '').trim());
  if (!m) return null;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const dt = new Date(Date.UTC(y, mo - 1, d));
  return dt.getUTCFullYear() === y && dt.getUTCMonth() === mo - 1 && dt.getUTCDate() === d ? dt : null;
}

// beijingToday is today's date in Beijing as a UTC-midnight Date.
export function beijingToday(now = Date.now()) {
  const b = new Date(now + 8 * 3600 * 1000);
  return new Date(Date.UTC(b.getUTCFullYear(), b.getUTCMonth(), b.getUTCDate()));
}

const addDays = (d, n) => new Date(d.getTime() + n * DAY);
function addMonths(d, n) {
  const y = d.getUTCFullYear();
  const m = d.getUTCMonth() + n;
  const last = new Date(Date.UTC(y, m + 1, 0)).getUTCDate();
  return new Date(Date.UTC(y, m, Math.min(d.getUTCDate(), last)));
}
// mondayOf is the Monday of d's week.
export const mondayOf = (d) => addDays(d, -((d.getUTCDay() + 6) % 7));

// datePicker builds the field. id goes on the text box (a <label for>
// finds it); labelKey names it for screen readers when no label does;
// onchange(value) runs after a pick or an edit. value is '' for empty,
// null for text that is not a date, else YYYY-MM-DD.
export function datePicker({ id, labelKey = 'cal.dp.date', onchange = () => {} } = {}) {
  const input = el('input', {
    id, type: 'text', class: 'dp-input', inputmode: 'numeric', autocomplete: 'off', spellcheck: 'false',
    maxlength: 10, size: 11, placeholder: t('cal.dp.placeholder'), 'aria-label': t(labelKey),
  });
  const toggle = el('button', {
    type: 'button', class: 'dp-toggle small', 'aria-haspopup': 'dialog', 'aria-expanded': 'false',
    title: t('cal.dp.open'), 'aria-label': t('cal.dp.open'), dataset: { for: id || '' },
  }, '▦');
  const title = el('span', { class: 'dp-title', 'aria-live': 'polite' });
  const prev = el('button', { type: 'button', class: 'dp-prev small', title: t('cal.dp.prevMonth'), 'aria-label': t('cal.dp.prevMonth') }, '‹');
  const next = el('button', { type: 'button', class: 'dp-next small', title: t('cal.dp.nextMonth'), 'aria-label': t('cal.dp.nextMonth') }, '›');
  const grid = el('table', { class: 'dp-grid', role: 'grid' });
  const todayBtn = el('button', { type: 'button', class: 'dp-today small' }, t('cal.dp.today'));
  const clearBtn = el('button', { type: 'button', class: 'dp-clear small' }, t('cal.dp.clear'));
  const pop = el('div', { class: 'dp-pop', role: 'dialog', 'aria-modal': 'false', 'aria-label': t('cal.dp.dialog'), hidden: true },
    el('div', { class: 'dp-head' }, prev, title, next), grid,
    el('div', { class: 'dp-foot' }, todayBtn, ' ', clearBtn));
  const node = el('span', { class: 'dp' }, input, toggle, pop);

  let shown = null; // first of the month on show
  let focus = null; // the focused day in the grid

  const value = () => {
    const v = input.value.trim();
    if (!v) return '';
    const d = parseDay(v);
    return d ? isoDay(d) : null;
  };

  function set(v) {
    const d = parseDay(v);
    input.value = d ? isoDay(d) : '';
    input.removeAttribute('aria-invalid');
  }

  function changed() {
    const v = value();
    if (v === null) input.setAttribute('aria-invalid', 'true');
    else {
      input.removeAttribute('aria-invalid');
      if (v) input.value = v; // 2026/5/1 becomes 2026-05-01
    }
    onchange(v);
  }

  function draw() {
    const y = shown.getUTCFullYear();
    const m = shown.getUTCMonth() + 1;
    title.textContent = t('cal.dp.monthTitle', { y, m, month: t(`cal.dp.month.${m}`) });
    const picked = parseDay(input.value);
    const today = beijingToday();
    const start = mondayOf(shown);
    const head = el('tr', {}, WEEK_ORDER.map((d) => el('th', { scope: 'col', abbr: t(`sched.day.${d}`), text: t(`sched.dayShort.${d}`) })));
    const rows = [];
    for (let w = 0; w < 6; w++) {
      const cells = [];
      for (let i = 0; i < 7; i++) {
        const d = addDays(start, w * 7 + i);
        const iso = isoDay(d);
        const cls = ['dp-day'];
        if (d.getUTCMonth() !== shown.getUTCMonth()) cls.push('dp-other');
        if (iso === isoDay(today)) cls.push('dp-is-today');
        const sel = picked && iso === isoDay(picked);
        if (sel) cls.push('dp-selected');
        const b = el('button', {
          type: 'button', class: cls.join(' '), tabindex: iso === isoDay(focus) ? '0' : '-1',
          dataset: { date: iso }, 'aria-selected': sel ? 'true' : 'false',
          'aria-label': t('cal.dp.dayLabel', { date: iso, weekday: t(`sched.day.${d.getUTCDay()}`) }),
          onclick: () => pick(iso),
        }, String(d.getUTCDate()));
        cells.push(el('td', { role: 'gridcell' }, b));
      }
      // A sixth row wholly in the next month adds nothing.
      if (w === 5 && addDays(start, 35).getUTCMonth() !== shown.getUTCMonth()) break;
      rows.push(el('tr', {}, cells));
    }
    grid.replaceChildren(el('thead', {}, head), el('tbody', {}, rows));
  }

  function moveFocus(d) {
    focus = d;
    if (d.getUTCMonth() !== shown.getUTCMonth() || d.getUTCFullYear() !== shown.getUTCFullYear()) {
      shown = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1));
    }
    draw();
    const b = grid.querySelector(`button[data-date="${isoDay(d)}"]`);
    if (b) b.focus();
  }

  function outside(e) {
    if (!node.contains(e.target)) close(false);
  }

  function open() {
    if (!pop.hidden) return;
    focus = parseDay(input.value) || beijingToday();
    shown = new Date(Date.UTC(focus.getUTCFullYear(), focus.getUTCMonth(), 1));
    pop.hidden = false;
    toggle.setAttribute('aria-expanded', 'true');
    document.addEventListener('mousedown', outside);
    moveFocus(focus);
  }

  function close(returnFocus = true) {
    if (pop.hidden) return;
    pop.hidden = true;
    toggle.setAttribute('aria-expanded', 'false');
    document.removeEventListener('mousedown', outside);
    if (returnFocus) input.focus();
  }

  function pick(iso) {
    input.value = iso;
    close();
    changed();
  }

  toggle.addEventListener('click', () => (pop.hidden ? open() : close()));
  prev.addEventListener('click', () => moveFocus(addMonths(focus, -1)));
  next.addEventListener('click', () => moveFocus(addMonths(focus, 1)));
  todayBtn.addEventListener('click', () => pick(isoDay(beijingToday())));
  clearBtn.addEventListener('click', () => {
    input.value = '';
    close();
    changed();
  });
  input.addEventListener('change', changed);
  input.addEventListener('keydown', (e) => {
    if (e.key === 'ArrowDown' && e.altKey) {
      e.preventDefault();
      open();
    }
  });
  grid.addEventListener('keydown', (e) => {
    const moves = {
      ArrowLeft: () => addDays(focus, -1), ArrowRight: () => addDays(focus, 1),
      ArrowUp: () => addDays(focus, -7), ArrowDown: () => addDays(focus, 7),
      PageUp: () => addMonths(focus, e.shiftKey ? -12 : -1), PageDown: () => addMonths(focus, e.shiftKey ? 12 : 1),
      Home: () => mondayOf(focus), End: () => addDays(mondayOf(focus), 6),
    };
    if (moves[e.key]) {
      e.preventDefault();
      moveFocus(moves[e.key]());
    }
  });
  pop.addEventListener('keydown', (e) => {
    if (e.key === 'Escape') {
      e.preventDefault();
      close();
    }
  });

  return { node, input, value, set, open, close };
}
