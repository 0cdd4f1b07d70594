// Kiosk admin page: the entry module. It signs people in (username,
// password and, when the server asks, a TOTP code; or a bearer token for
// break-glass and personal API tokens), builds the navigation from what the
// signed-in role may do, and routes #/name/arg to one screen module.
//
// A password sign-in leaves the session in an HttpOnly cookie the page never
// sees; writes carry the CSRF value from the session body. A token lives in
// sessionStorage: it survives a reload but not the tab, and it never goes
// into a URL or a cookie.

import {
  $, el, append, api, session, setSession, clearSession, can, onUnauthorized, onSessionChanged, roleLabel,
  Page, clearBanner, TOKEN_KEY,
} from './kit.js';
import { t, lang, setLang } from './i18n.js';
import fleetView from './fleet.js';
import screensView from './screens.js';
import screenView from './screen.js';
import itemsView from './items.js';
import playlistsView from './playlists.js';
import mediaView from './media.js';
import schedulesView from './schedules.js';
import reviewView from './review.js';
import urgentView from './urgent.js';
import alertsView from './alerts.js';
import usersView from './users.js';
import auditView from './audit.js';
import accountView from './account.js';
import safeModeView, { watchSafeMode } from './safemode.js';
import releasesView from './releases.js';
import calendarView from './calendar.js';
import reportsView from './reports.js';
import webhooksView from './webhooks.js';
import previewView from './preview.js';

// routes is the page's table of screens. nav names the link (none: reached
// from another screen, highlighted as navAs); any lists the capabilities
// of which one is enough (none: everyone signed in), all those that are
// all needed.
const routes = [
  { name: 'fleet', nav: 'nav.fleet', view: fleetView },
  { name: 'screens', nav: 'scr.nav', view: screensView, any: ['fleet.read'] },
  { name: 'screen', view: screenView, navAs: 'fleet' },
  { name: 'items', nav: 'nav.items', view: itemsView, any: ['content.read'] },
  { name: 'media', nav: 'media.nav', view: mediaView, any: ['content.read'] },
  { name: 'playlists', nav: 'nav.playlists', view: playlistsView, any: ['content.read'] },
  { name: 'schedules', nav: 'nav.schedules', view: schedulesView, any: ['content.read'] },
  { name: 'calendar', nav: 'cal.nav', view: calendarView, all: ['content.read', 'fleet.read'] },
  { name: 'reports', nav: 'rep.nav', view: reportsView, any: ['reports'] },
  { name: 'preview', nav: 'pv.nav', view: previewView, any: ['content.read'] },
  { name: 'review', nav: 'nav.review', view: reviewView, any: ['content.write', 'review'] },
  { name: 'urgent', nav: 'nav.urgent', view: urgentView },
  { name: 'alerts', nav: 'nav.alerts', view: alertsView },
  { name: 'webhooks', nav: 'hook.nav', view: webhooksView, any: ['webhooks.read'] },
  { name: 'safe-mode', nav: 'nav.safeMode', view: safeModeView },
  { name: 'users', nav: 'nav.users', view: usersView, any: ['users'] },
  { name: 'audit', nav: 'nav.audit', view: auditView, any: ['audit'] },
  { name: 'player-versions', nav: 'nav.releases', view: releasesView, any: ['releases'] },
  { name: 'account', nav: 'nav.account', view: accountView, personal: true },
];

const allowed = (r) => (!r.any || r.any.some(can)) && (!r.all || r.all.every(can)) && !(r.personal && session.breakglass);

let page = null;

function disposePage() {
  if (page) page.dispose();
  page = null;
}

// ---- sign-in -------------------------------------------------------------

function showSignIn(msg) {
  disposePage();
  $('#view').hidden = true;
  $('#view').replaceChildren();
  $('#nav').hidden = true;
  $('#who').hidden = true;
  $('#review-off').hidden = true;
  clearBanner();
  $('#signin').hidden = false;
  signInMessage(msg);
  $('#password').value = '';
  $('#totp').value = '';
  $('#totp-row').hidden = true;
  ($('#token-signin').open ? $('#token') : $('#username')).focus();
}

function signInMessage(msg) {
  const m = $('#signin-msg');
  m.textContent = msg || '';
  m.hidden = !msg;
}

onSessionChanged(renderHeader);

// A 401 anywhere ends the session and says why.
onUnauthorized((err, mode) => {
  // One refresh sends several requests; once the first 401 ended the
  // session the others fail too (their cookie is gone). The first says why.
  if (!$('#signin').hidden) return;
  const reason = err.code === 'session_expired'
    ? t('session.expired')
    : mode === 'token'
      ? t('session.tokenRejected', { msg: err.message })
      : t('session.ended', { msg: err.message });
  clearSession();
  showSignIn(reason);
});

async function passwordSignIn(e) {
  e.preventDefault();
  const username = $('#username').value.trim();
  const password = $('#password').value;
  const totpRow = $('#totp-row');
  const totp = totpRow.hidden ? '' : $('#totp').value.trim();
  if (!username || !password) {
    signInMessage(t('signin.needUser'));
    return;
  }
  // A kept token would win over the cookie on every request.
  sessionStorage.removeItem(TOKEN_KEY);
  const btn = $('#signin-submit');
  btn.disabled = true;
  try {
    const body = await api('POST', '/session', { username, password, totp }, { signingIn: true, cookie: true });
    setSession(body, 'cookie');
    $('#password').value = '';
    $('#totp').value = '';
    totpRow.hidden = true;
    signInMessage('');
    enterApp();
  } catch (err) {
    if (err.code === 'totp_required') {
      const first = totpRow.hidden;
      totpRow.hidden = false;
      signInMessage(first && !totp ? t('signin.totpNeeded') : t('signin.totpWrong'));
      $('#totp').value = '';
      $('#totp').focus();
    } else if (err.status === 429 || err.code === 'too_many_attempts') {
      signInMessage(err.retryAfter ? t('signin.tooMany', { secs: err.retryAfter }) : t('signin.tooManySoon'));
    } else if (err.status === 401) {
      signInMessage(t('signin.bad'));
      $('#password').value = '';
      $('#password').focus();
    } else {
      signInMessage(t('signin.failed', { msg: err.message }));
    }
  } finally {
    btn.disabled = false;
  }
}

async function tokenSignIn(e) {
  e.preventDefault();
  const input = $('#token');
  const token = input.value.trim();
  if (!token) {
    signInMessage(t('signin.needToken'));
    return;
  }
  sessionStorage.setItem(TOKEN_KEY, token);
  try {
    setSession(await api('GET', '/session', undefined, { signingIn: true }), 'token');
  } catch (err) {
    clearSession();
    signInMessage(err.status === 401 || err.status === 403
      ? t('signin.tokenBad', { msg: err.message })
      : t('signin.failed', { msg: err.message }));
    return;
  }
  input.value = '';
  signInMessage('');
  enterApp();
}

async function signOut() {
  if (session.mode === 'cookie') {
    try {
      await api('DELETE', '/session', undefined, { signingIn: true, cookie: true });
    } catch {
      // the cookie may be gone already; signing out locally is what matters
    }
  }
  clearSession();
  showSignIn(t('session.signedOut'));
}

// resume decides on load: a kept token or a session cookie that the server
// still accepts goes straight to the app, anything else to the sign-in page.
async function resume() {
  const mode = sessionStorage.getItem(TOKEN_KEY) ? 'token' : 'cookie';
  try {
    setSession(await api('GET', '/session', undefined, { signingIn: true }), mode);
  } catch (err) {
    const had = mode === 'token';
    clearSession();
    showSignIn(err.code === 'session_expired'
      ? t('session.expired')
      : had && err.status === 401 ? t('session.tokenRejected', { msg: err.message })
        : err.status === 401 ? '' : t('signin.failed', { msg: err.message }));
    return;
  }
  enterApp();
}

// ---- the app -------------------------------------------------------------

function enterApp() {
  renderHeader();
  watchSafeMode();
  const target = session.mfaSetup ? '#/account' : '#/fleet';
  if (!location.hash || location.hash === '#' || (session.mfaSetup && location.hash !== target)) location.hash = target;
  else route();
}


function renderHeader() {
  const nav = $('#nav');
  nav.replaceChildren(...routes.filter((r) => r.nav && allowed(r) && (!session.mfaSetup || r.name === 'account')).map((r) =>
    el('a', { href: '#/' + r.name, dataset: { route: r.name }, text: t(r.nav) })));
  const u = session.user || {};
  const who = $('#whoami');
  who.replaceChildren();
  append(who, session.breakglass
    ? [el('span', { class: 'who-name', text: u.username || 'break-glass' }), ' ', el('span', { class: 'who-role', text: `${t('session.breakglass')} · ${roleLabel(u.role || 'admin')}` })]
    : [el('span', { class: 'who-name', text: u.username || '—' }), ' ', el('span', { class: 'who-role', text: roleLabel(u.role) })]);
  who.dataset.role = u.role || '';
  const off = $('#review-off');
  off.textContent = t('session.reviewOff');
  off.hidden = session.review;
  nav.hidden = false;
  $('#who').hidden = false;
}

function parseHash() {
  const h = location.hash.replace(/^#\/?/, '');
  const [path, query] = h.split('?', 2);
  const parts = path.split('/');
  let arg = '';
  try {
    arg = parts[1] ? decodeURIComponent(parts[1]) : '';
  } catch {
    arg = '';
  }
  return { name: parts[0] || 'fleet', arg, query: new URLSearchParams(query || '') };
}

function route() {
  if (!session.mode) return; // signed out: the sign-in page stays
  disposePage();
  clearBanner();
  $('#signin').hidden = true;
  const root = $('#view');
  root.replaceChildren();
  root.hidden = false;
  const { name, arg, query } = parseHash();
  const r = routes.find((x) => x.name === name);
  for (const a of document.querySelectorAll('#nav a')) {
    const on = r && (a.dataset.route === name || a.dataset.route === r.navAs);
    if (on) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  page = new Page(root);
  if (!r) {
    append(root, el('div', { class: 'card' }, el('p', { text: t('page.notFound') }), el('a', { href: '#/fleet', text: t('page.backToFleet') })));
    return;
  }
  if (session.mfaSetup && r.name !== 'account') {
    location.hash = '#/account';
    return;
  }
  if (!allowed(r)) {
    append(root, el('div', { class: 'card', id: 'no-access' }, el('p', { text: t('session.noAccess') }), el('a', { href: '#/fleet', text: t('page.backToFleet') })));
    return;
  }
  r.view(page, arg, query);
}

// translateStatic fills the page's static HTML (the header and the
// sign-in form) from the catalogue: data-i18n names the text's key,
// data-i18n-attr an attribute's (title=key).
function translateStatic() {
  document.documentElement.lang = lang === 'en' ? 'en' : 'zh-CN';
  document.title = t('app.title');
  for (const n of document.querySelectorAll('[data-i18n]')) n.textContent = t(n.dataset.i18n);
  const other = lang === 'en' ? 'zh' : 'en';
  const sw = $('#lang');
  sw.textContent = t('lang.switchTo');
  sw.lang = other === 'en' ? 'en' : 'zh-CN';
  sw.title = t('lang.switchTitle');
  sw.addEventListener('click', () => setLang(other));
}

function start() {
  translateStatic();
  $('#signin-form').addEventListener('submit', passwordSignIn);
  $('#token-form').addEventListener('submit', tokenSignIn);
  $('#token-signin').addEventListener('toggle', () => {
    if ($('#token-signin').open) $('#token').focus();
  });
  $('#signout').addEventListener('click', signOut);
  window.addEventListener('hashchange', route);
  document.addEventListener('visibilitychange', () => {
    if (!document.hidden && page) page.tick();
  });
  resume();
}

start();
