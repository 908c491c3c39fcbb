// The help panel's stylesheet and its strings (the rest are in 15-strings.js).
// Uses STRINGS (15-strings.js), shell (45-shell.js).
shell.style(`
.pan{position:fixed;z-index:5;right:20px;bottom:84px;width:min(380px,calc(100vw - 24px));height:min(600px,calc(100vh - 110px));
display:flex;flex-direction:column;overflow:hidden}
.pan header{display:flex;align-items:center;gap:4px;padding:10px 12px 10px 16px;border-bottom:1px solid var(--ln)}
.pan h2{flex:1;margin:0}.pan .x{position:static}
.bk{border:0;background:none;cursor:pointer;font-size:20px;padding:0 6px;color:var(--mu)}
.vw{flex:1;overflow:auto;padding:12px}
.log{display:flex;flex-direction:column;gap:8px}
.m{max-width:88%;padding:8px 12px;border-radius:12px;background:#f1f4f8;align-self:flex-start;overflow-wrap:anywhere}
.m p{margin:0 0 4px}.m ul{margin:4px 0;padding-left:18px}
.u{align-self:flex-end;background:var(--a);color:var(--at)}
.src{display:block;font-size:13px}.m ol{margin:4px 0;padding-left:22px}.why{display:block;color:var(--mu);font-size:12px}
.rel{margin:8px 0 0;font-size:12px;font-weight:600;color:var(--mu)}.rl{font-size:13px}
mark{background:#fff3b0;color:inherit;padding:0 1px;border-radius:2px}
.fb{display:flex;gap:6px;margin-top:6px;flex-wrap:wrap}.fb .btn{padding:2px 10px;font-size:13px}
form{display:flex;gap:6px;padding:10px;border-top:1px solid var(--ln)}
input,textarea{flex:1;min-width:0;padding:8px 10px;border:1px solid var(--ln);border-radius:8px;background:var(--bg)}
textarea{display:block;width:100%;resize:vertical;margin:4px 0}label{display:block;margin-top:6px;font-size:13px}
.m form{display:block;padding:0;border:0}.m .f{margin-top:6px}
.sec{margin:0 0 16px}.sec h3{margin:0 0 6px;font-size:12px;font-weight:600;color:var(--mu);text-transform:uppercase;letter-spacing:.04em}
.li{display:flex;width:100%;gap:8px;align-items:center;text-align:left;padding:8px 10px;margin:0 0 4px;border:1px solid var(--ln);
border-radius:8px;background:none;cursor:pointer;text-decoration:none;color:inherit}
.li small{display:block;color:var(--mu)}div.li{border-color:transparent;cursor:default}.li.ok{color:var(--mu);text-decoration:line-through}
.art h1{font-size:18px;margin:0 0 8px}.art h2{margin:16px 0 6px}.art img{max-width:100%}.art pre{overflow:auto}
.toc{margin:0 0 12px;padding-left:18px;font-size:13px}
@media (max-width:480px){.pan{height:85vh;max-height:85vh}}`);

Object.assign(STRINGS.ja, {
  hello: 'ご質問をどうぞ。ヘルプ記事からお答えします。', source: '出典', related: '関連する質問', yes: '👍 役に立った', no: '👎 役に立たなかった',
  thanks: 'フィードバックありがとうございます。', sorry: 'お役に立てず申し訳ありません。', support: 'サポートに問い合わせる',
  wait: '回答を探しています…', fail: '接続できませんでした。しばらくしてからお試しください。',
  search: '質問を入力、またはヘルプを検索', articles: 'ヘルプ記事', noHits: '記事が見つかりません。Enter でチャットに質問できます。',
  checklist: 'はじめの設定', tours: 'ツアー', askChat: 'チャットで質問する', center: 'ヘルプセンターを開く', onPage: '新しいタブで開く',
  contents: '目次', why2: '足りなかった点を教えてください（任意）', skip: 'スキップ', human: '担当者に問い合わせる',
  message: 'お問い合わせ内容', email: '返信先メールアドレス（任意）', sent: '担当者に送信しました。返信をお待ちください。',
  mailed: 'メールアプリを開きました。内容を確認して送信してください。',
});
Object.assign(STRINGS.en, {
  hello: 'Ask a question; answers come from our help articles.', source: 'Source', related: 'Related questions', yes: '👍 Helpful', no: '👎 Not helpful',
  thanks: 'Thank you for the feedback.', sorry: 'Sorry we could not help.', support: 'Contact support',
  wait: 'Looking for an answer…', fail: 'Could not connect. Please try again later.',
  search: 'Ask a question or search help', articles: 'Help articles', noHits: 'No articles found. Press Enter to ask the chat.',
  checklist: 'Get set up', tours: 'Tours', askChat: 'Ask in the chat', center: 'Open the help center', onPage: 'Open in a new tab',
  contents: 'Contents', why2: 'What was missing? (optional)', skip: 'Skip', human: 'Contact a person',
  message: 'Your message', email: 'E-mail for the reply (optional)', sent: 'Sent to our team. We will get back to you.',
  mailed: 'Your mail app opened: check the message and send it.',
});
