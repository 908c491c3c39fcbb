// Strings: every text the widget writes itself, in Japanese and English, and the locale in use.
// (Tour, hint, checklist and survey texts come from the server, already in the right locale.)
// Uses config (05-config.js), state.locale (10-state.js).
const STRINGS = {
  ja: {
    next: '次へ', back: '戻る', done: '完了', ok: 'OK', close: '閉じる', help: 'ヘルプ', hello: 'ご質問をどうぞ。ヘルプ記事からお答えします。',
    ask: '質問を入力', send: '送信', source: '出典', yes: '役に立った', no: '役に立たなかった', thanks: 'フィードバックありがとうございます。',
    sorry: 'お役に立てず申し訳ありません。', support: 'サポートに問い合わせる', wait: '回答を探しています…',
    fail: '接続できませんでした。しばらくしてからお試しください。', show: '見てみる', allDone: 'すべて完了しました',
    later: 'あとで回答する', answered: 'ご回答ありがとうございました。', low: 'まったく思わない', high: '非常にそう思う',
    why: 'そう答えた理由をお聞かせください（任意）', points: '点',
  },
  en: {
    next: 'Next', back: 'Back', done: 'Done', ok: 'Got it', close: 'Close', help: 'Help', hello: 'Ask a question; answers come from our help articles.',
    ask: 'Type your question', send: 'Send', source: 'Source', yes: 'Helpful', no: 'Not helpful', thanks: 'Thank you for the feedback.',
    sorry: 'Sorry we could not help.', support: 'Contact support', wait: 'Looking for an answer…',
    fail: 'Could not connect. Please try again later.', show: 'Show me', allDone: 'All done',
    later: 'Ask me later', answered: 'Thank you for your answer.', low: 'Not at all likely', high: 'Extremely likely',
    why: 'What is the main reason for your score? (optional)', points: ' out of 10',
  },
};
// identify's locale, else data-locale, else the page's <html lang> (English or else Japanese)
const locale = () => state.locale || (STRINGS[config.locale] && config.locale) ||
  ((d.documentElement.lang || '').slice(0, 2).toLowerCase() === 'en' ? 'en' : 'ja');
const t = (key) => STRINGS[locale()][key];
