// The admin page's API client and who is signed in: the session (cookie
// or bearer token), the one fetch wrapper every module calls (CSRF, 401
// handling, errors worded from their code), uploads with progress, and the
// lookups (item titles, group names) most screens show. kit.js re-exports
// all of it, so modules keep importing from the kit.

import { t, has, label } from './i18n.js';

export const TOKEN_KEY = 'kiosk.admin.token';

// ---- session -------------------------------------------------------------

// session is who is signed in, as GET/POST /session said. mode is 'cookie'
// for a username and password sign-in (the browser holds an HttpOnly
// cookie; writes carry the CSRF value) or 'token' for a bearer token kept
// in sessionStorage (the break-glass token or a personal API token).
export const session = {
  mode: '', user: null, can: new Set(), csrf: '', review: true, breakglass: false, mfaSetup: false,
};

export function setSession(body, mode) {
  session.mode = mode;
  session.user = (body && body.user) || null;
  session.can = new Set((body && body.can) || []);
  session.csrf = (body && body.csrf) || '';
  session.review = !body || body.review !== false;
  session.breakglass = !!(body && body.breakglass);
  // The role must use two-step verification and this person has not set
  // it up: the server answers only their own account until they do.
  session.mfaSetup = !!(body && body.mfa_setup_required);
}

export function clearSession() {
  sessionStorage.removeItem(TOKEN_KEY);
  setSession(null, '');
  lookups.at = 0;
}

let sessionChanged = () => {};

// onSessionChanged sets what follows reloadSession (the header redrawn).
export function onSessionChanged(fn) {
  sessionChanged = fn;
}

// reloadSession rereads GET /session after something that changes it
// (two-step verification switched on, say).
export async function reloadSession() {
  setSession(await api('GET', '/session'), session.mode);
  sessionChanged();
}

// can reports whether the signed-in person holds a capability ("can" list
// of GET /session). The server checks every request anyway; this only
// decides which buttons the page offers.
export const can = (cap) => session.can.has(cap);

// isMe says whether a user id is the signed-in person's.
export const isMe = (id) => !!session.user && !!id && session.user.id === id;

export const roleLabel = (role) => (role ? label('role', role) : '—');

// ---- API -----------------------------------------------------------------

// ApiError is a refusal or failure of the API. message is what the page
// shows: the catalogue's text for the error code (err.<code>) when it has
// one, else the server's English sentence; detail is always the server's.
// more holds a field error's reason and limits ({reason, min, limit}).
export class ApiError extends Error {
  constructor(status, detail, code, field, more) {
    super(errorText(status, detail, code, field, more));
    this.status = status;
    this.code = code || '';
    this.field = field || '';
    this.reason = (more && more.reason) || '';
    this.detail = detail || '';
  }
}

// fieldName is how the page calls a field the API named ("items[2]" is
// the items field; "target.groups[0]" the target's).
function fieldName(field) {
  const base = String(field).replace(/\[\d+\]$/, '');
  for (const k of [base, base.split('.')[0]]) {
    if (has('err.f.' + k)) return t('err.f.' + k);
    if (has('field.' + k)) return t('field.' + k);
  }
  return String(field);
}

// errorText words an API error in the page's language. A field error
// names the field as the page calls it and, for the common problems the
// server gives a reason for (required, too_long, ...), says it whole
// ("标题：最多 200 个字"); otherwise the server's sentence (English, with
// the limits and values) follows in parentheses.
export function errorText(status, detail, code, field, more) {
  const reason = more && more.reason;
  if (code === 'invalid_field' && field && reason && has('err.field.' + reason)) {
    const main = t('err.field.' + reason, { field: fieldName(field), limit: more.limit ?? '', min: more.min ?? '' });
    // A wrong form or a missing reference: the server's sentence says which.
    const why = (reason === 'invalid_format' || reason === 'unknown_reference') && detail;
    return why ? t('err.withDetail', { text: main, detail }) : main;
  }
  if (code && has('err.' + code)) {
    const f = field ? fieldName(field) : '';
    const main = t(code === 'invalid_field' && !f ? 'err.invalidInput' : 'err.' + code, { field: f, detail: detail || '' });
    return code === 'invalid_field' && detail ? t('err.withDetail', { text: main, detail }) : main;
  }
  if (!status) return t('err.network', { detail: detail || '' });
  return `HTTP ${status}` + (detail ? `: ${detail}` : '');
}

async function readError(resp) {
  let msg = '';
  let code = '';
  let field = '';
  const more = {};
  try {
    if ((resp.headers.get('Content-Type') || '').includes('json')) {
      const j = await resp.json();
      msg = j && typeof j.error === 'string' ? j.error : JSON.stringify(j);
      code = j && typeof j.code === 'string' ? j.code : '';
      field = j && typeof j.field === 'string' ? j.field : '';
      for (const k of ['reason', 'min', 'limit']) if (j && typeof j[k] === 'string') more[k] = j[k];
    } else {
      msg = (await resp.text()).slice(0, 300);
    }
  } catch {
    // an unreadable body still has its status
  }
  return { msg, code, field, more };
}

let unauthorized = () => {};

// onUnauthorized sets what a 401 outside signing in does (back to the
// sign-in page with the reason).
export function onUnauthorized(fn) {
  unauthorized = fn;
}

const UNSAFE = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

// api calls the admin API as the signed-in person: with the bearer token
// when one is kept, else with the session cookie and, on writes, the CSRF
// header. A 401 ends the session unless signingIn (the form shows it
// instead). raw returns the Response for blobs. A FormData body goes as
// multipart (media uploads), anything else as JSON.
export async function api(method, path, body, opts = {}) {
  try {
    return await call(method, path, body, opts);
  } catch (err) {
    // A CSRF refusal of a cookie session means the page holds a stale
    // value (the session was renewed elsewhere): read it again, retry once.
    if (err.code !== 'csrf' || session.mode !== 'cookie' || opts.signingIn || opts.retried) throw err;
    const fresh = await call('GET', '/session', undefined, {});
    session.csrf = (fresh && fresh.csrf) || '';
    return call(method, path, body, { ...opts, retried: true });
  }
}

// backgroundCalls counts timed refreshes in flight; their requests say so
// with X-Kiosk-Background, so they do not count as activity for the
// session's idle timeout.
let backgroundCalls = 0;

// inBackground runs fn as a timed refresh: the API calls it makes while it
// runs do not keep an idle session alive.
export async function inBackground(fn) {
  backgroundCalls++;
  try {
    return await fn();
  } finally {
    backgroundCalls--;
  }
}

// credentials are what a request as the signed-in person carries: the
// bearer token when one is kept (and no cookie), else the session cookie
// and, on writes, the CSRF header.
function credentials(method, cookie = false) {
  const token = cookie ? '' : sessionStorage.getItem(TOKEN_KEY);
  const headers = { Accept: 'application/json' };
  if (token) headers.Authorization = 'Bearer ' + token;
  else if (UNSAFE.has(method) && session.csrf) headers['X-CSRF-Token'] = session.csrf;
  return { token, headers };
}

// immutable (for GETs of content-addressed media) lets the browser's own
// cache answer: those bytes never change, and a library page would
// otherwise fetch every file again on each visit.
async function call(method, path, body, { signingIn = false, raw = false, cookie = false, background = false, immutable = false } = {}) {
  const { token, headers } = credentials(method, cookie);
  if ((background || backgroundCalls > 0) && method === 'GET') headers['X-Kiosk-Background'] = '1';
  const cache = immutable && method === 'GET' ? 'default' : 'no-store';
  const init = { method, headers, cache, redirect: 'error', credentials: token ? 'omit' : 'same-origin' };
  if (body instanceof FormData) {
    init.body = body; // the browser sets the multipart boundary itself
  } else if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let resp;
  try {
    resp = await fetch('/api/v1' + path, init);
  } catch (err) {
    throw new ApiError(0, err.message, 'network');
  }
  if (!resp.ok) {
    const { msg, code, field, more } = await readError(resp);
    const err = new ApiError(resp.status, msg, code, field, more);
    err.retryAfter = Number(resp.headers.get('Retry-After')) || 0;
    if (resp.status === 401 && !signingIn) {
      err.handled = true;
      unauthorized(err, token ? 'token' : 'cookie');
    }
    throw err;
  }
  if (raw) return resp;
  if (resp.status === 204) return null;
  const ctype = resp.headers.get('Content-Type') || '';
  return ctype.includes('json') ? resp.json() : null;
}

// upload POSTs a FormData body with XMLHttpRequest, which (unlike fetch)
// reports upload progress: onProgress(loaded, total) as bytes leave, and
// onSent() once the last byte is out and the server is still storing it.
// It carries the same credentials as api(), retries once after a stale
// CSRF value, and ends the session on a 401. It returns { done, abort }:
// done resolves to the parsed JSON answer or rejects with an ApiError
// (code 'aborted' after abort()).
export function upload(path, form, { onProgress = () => {}, onSent = () => {} } = {}) {
  let xhr = null;
  let aborted = false;
  const send = (retried) => new Promise((resolve, reject) => {
    const { token, headers } = credentials('POST');
    xhr = new XMLHttpRequest();
    xhr.open('POST', '/api/v1' + path);
    xhr.withCredentials = !token;
    for (const [k, v] of Object.entries(headers)) xhr.setRequestHeader(k, v);
    xhr.upload.addEventListener('progress', (e) => onProgress(e.loaded, e.lengthComputable ? e.total : 0));
    xhr.upload.addEventListener('load', () => onSent());
    xhr.addEventListener('abort', () => reject(new ApiError(0, 'aborted', 'aborted')));
    xhr.addEventListener('error', () => reject(new ApiError(0, 'network error', 'network')));
    xhr.addEventListener('timeout', () => reject(new ApiError(0, 'timed out', 'network')));
    xhr.addEventListener('load', () => {
      let j = null;
      if ((xhr.getResponseHeader('Content-Type') || '').includes('json')) {
        try {
          j = JSON.parse(xhr.responseText);
        } catch {
          j = null;
        }
      }
      if (xhr.status >= 200 && xhr.status < 300) return resolve(j);
      const msg = j && typeof j.error === 'string' ? j.error : String(xhr.responseText || '').slice(0, 300);
      const err = new ApiError(xhr.status, msg, j && typeof j.code === 'string' ? j.code : '', j && typeof j.field === 'string' ? j.field : '');
      if (err.code === 'csrf' && session.mode === 'cookie' && !retried && !aborted) {
        call('GET', '/session', undefined, {}).then((fresh) => {
          session.csrf = (fresh && fresh.csrf) || '';
          return send(true);
        }).then(resolve, reject);
        return;
      }
      if (xhr.status === 401) {
        err.handled = true;
        unauthorized(err, token ? 'token' : 'cookie');
      }
      reject(err);
    });
    xhr.send(form);
  });
  return {
    done: send(false),
    abort() {
      aborted = true;
      if (xhr) xhr.abort();
    },
  };
}

export const enc = encodeURIComponent;

// Lookups change rarely; one fetch a minute keeps titles fresh without
// doubling the load of every refresh.
export const lookups = { at: 0, items: new Map(), urgent: new Map(), groups: [], groupNames: new Map(), pending: null };
export async function loadLookups(force = false) {
  if (!force && Date.now() - lookups.at < 60000) return lookups;
  if (lookups.pending) {
    if (!force) return lookups.pending;
    // A forced load follows a write: one already in flight may have been
    // answered before it, so wait for that one, then ask again.
    try { await lookups.pending; } catch { /* asked again below */ }
    return loadLookups(true);
  }
  lookups.pending = (async () => {
    try {
      const [items, urgent, groups] = await Promise.all([api('GET', '/items'), api('GET', '/urgent'), api('GET', '/groups')]);
      lookups.items = new Map((items || []).map((i) => [i.id, i]));
      lookups.urgent = new Map((urgent || []).map((u) => [u.id, u]));
      lookups.groups = groups || [];
      lookups.groupNames = new Map(lookups.groups.map((g) => [g.id, g.name || g.id]));
      lookups.at = Date.now();
      return lookups;
    } finally {
      lookups.pending = null;
    }
  })();
  return lookups.pending;
}
