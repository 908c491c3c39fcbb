// Strings: the texts embed.js writes itself, in Japanese and English (each part adds its own), and
// the locale in use. (Tour, hint, checklist and survey texts come from the server, already in the
// right locale.)
// Uses config (05-config.js), state.locale (10-state.js).
const STRINGS = {
  ja: {
    next: '次へ', back: '戻る', done: '完了', ok: 'OK', close: '閉じる', help: 'ヘルプ', send: '送信', show: '見てみる',
    allDone: 'すべて完了しました', hide: '非表示にする',
  },
  en: {
    next: 'Next', back: 'Back', done: 'Done', ok: 'Got it', close: 'Close', help: 'Help', send: 'Send', show: 'Show me',
    allDone: 'All done', hide: 'Hide',
  },
};
// One rule for every part of the widget: the locale the app identified the user with, else the
// script tag's data-locale, else the page's <html lang> (ja…, en…), else the site's default, as the
// server said it (siteLocale). A change of <html lang> is watched (95-api.js).
const pageLocale = () => state.locale || (STRINGS[config.locale] && config.locale) ||
  ((d.documentElement.lang || '').slice(0, 2).toLowerCase().replace(/^(?!ja|en).*/, '') || null);
const locale = () => pageLocale() || state.siteLocale || 'ja';
const t = (key) => STRINGS[locale()][key];
