// Language of the admin page. Chinese is the default; English is a full
// second language. The choice is kept in localStorage and applies to the
// whole page: switching reloads it, so every screen module renders again
// in the new language (the session survives: a cookie or a tab token).
//
// All text comes from the two message catalogues, Chinese and English,
// each in two files by what it holds: messages.<lang>.js, the page's
// text, and messages.errors.<lang>.js, its error texts. Both languages
// hold the same keys (i18n_test.go checks that and that every literal
// key the modules use exists). Values are plain text,
// filled with {name} placeholders by t; nothing here is markup.

import zh from './messages.zh.js';
import en from './messages.en.js';
import zhErrors from './messages.errors.zh.js';
import enErrors from './messages.errors.en.js';

export const LANG_KEY = 'kiosk.admin.lang';
export const LANGS = ['zh', 'en'];

function storedLang() {
  try {
    const v = localStorage.getItem(LANG_KEY);
    return LANGS.includes(v) ? v : 'zh';
  } catch {
    return 'zh'; // storage disabled: the default
  }
}

// lang is this page load's language: 'zh' or 'en'.
export const lang = storedLang();

// locale is what Intl formats dates, numbers and sorts with.
export const locale = lang === 'en' ? 'en-GB' : 'zh-CN';

const catalogue = lang === 'en' ? { ...en, ...enErrors } : { ...zh, ...zhErrors };

// setLang keeps the choice and renders the page again in it.
export function setLang(l) {
  if (!LANGS.includes(l) || l === lang) return;
  try {
    localStorage.setItem(LANG_KEY, l);
  } catch {
    return;
  }
  location.reload();
}

function fill(s, vars) {
  if (!vars) return s;
  return s.replace(/\{(\w+)\}/g, (m, k) => (k in vars ? String(vars[k]) : m));
}

// t is the text of key in the page's language. A key missing from the
// catalogue shows as itself (the key test keeps that from shipping).
export const t = (key, vars) => fill(catalogue[key] ?? key, vars);

// has says whether key exists, for optional texts such as a translated
// error code with the server's English message as the fallback.
export const has = (key) => key in catalogue;

// label is the text of an enumeration value (a screen state, a command,
// an item kind): the catalogue's prefix.value, or the value itself.
export const label = (prefix, value) => (value && has(`${prefix}.${value}`) ? t(`${prefix}.${value}`) : String(value ?? ''));

// compareText sorts strings the way the page's language does.
export const compareText = (a, b) => String(a ?? '').localeCompare(String(b ?? ''), locale);

export const fmtNumber = (n) => new Intl.NumberFormat(locale).format(n);

export const ROLES = ['admin', 'reviewer', 'editor', 'technician', 'viewer'];
export const CS_STATES = ['open', 'submitted', 'approved', 'rejected', 'discarded'];
export const ITEM_KINDS = ['legal_story', 'notice', 'psa'];
