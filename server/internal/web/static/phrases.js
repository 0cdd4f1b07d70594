// Sentences the page composes from the server's machine fields instead of
// showing its English text: an alert's summary from its kind and screens,
// a remote command's outcome from its type and status.
// The webhooks and alerts pages use alertSummary (the server's English
// summary stays as the tooltip).

import { t, label, fmtNumber } from './i18n.js';

const KINDS = ['offline', 'stale', 'degraded', 'recovered'];

// kindOf is the alert kind of a screen's new state (back online is
// "recovered"), like the server's alerts.kindOf.
const kindOf = (to) => (to === 'online' ? 'recovered' : to);

const screenName = (s) => s.name || s.screen || '?';

// alertSummary words alert a ({kind, grouped, screens: [{screen, name,
// from, to}]}) in the page's language: "屏幕 A 离线" / "Screen A is
// offline", "3 块屏幕离线", or the count of each kind for a mixed group.
// A test event ("test") says so. An alert without screens falls back to
// the server's summary.
export function alertSummary(a) {
  if (!a) return '';
  if (a.kind === 'test') return t('alert.test');
  const screens = a.screens || [];
  if (!screens.length) return a.summary || label('alertKind', a.kind);
  if (!a.grouped && screens.length === 1) {
    const s = screens[0];
    const k = kindOf(s.to);
    if (KINDS.includes(k)) return t('alert.one.' + k, { name: screenName(s) });
    return t('alert.oneState', { name: screenName(s), state: label('state', s.to) });
  }
  const n = fmtNumber(screens.length);
  if (a.kind !== 'mixed' && KINDS.includes(a.kind)) return t('alert.many.' + a.kind, { n });
  const counts = new Map();
  for (const s of screens) counts.set(kindOf(s.to), (counts.get(kindOf(s.to)) || 0) + 1);
  const parts = [...counts].map(([k, c]) => t('alert.count', { kind: label('alertKind', k), n: fmtNumber(c) }));
  return t('alert.mixed', { n, list: parts.join(t('alert.sep')) });
}

// commandText words a remote command's outcome ({type, status, error}):
// the command and its status from the catalogue; a failure adds the
// player's own message (English, from the device) after it.
export function commandText(c) {
  if (!c) return '';
  const cmd = label('cmd', c.type);
  if (c.status === 'failed') return c.error ? t('err.cmdFailedWhy', { cmd, error: c.error }) : t('err.cmdFailed', { cmd });
  if (c.status === 'expired') return t('err.cmdExpired', { cmd });
  return t('err.cmdStatus', { cmd, status: label('cmdStatus', c.status) });
}
