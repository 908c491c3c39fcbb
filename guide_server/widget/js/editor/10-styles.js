// The editor's tools: their stylesheet and strings (the rest are in 15-strings.js). Classes carry the
// prefix pv- (the preview banner) and pk- (the element picker). Stacking: above everything the widget draws.
// Uses STRINGS (15-strings.js), shell (45-shell.js).
shell.style(`
.pv-bar{position:fixed;z-index:6;bottom:16px;left:50%;transform:translateX(-50%);display:flex;align-items:center;gap:8px;
max-width:calc(100vw - 16px);padding:6px 8px 6px 14px;border-radius:999px;background:#1f2933;color:#fff;
box-shadow:0 6px 20px rgba(0,0,0,.3);font-size:13px}
.pv-bar b{font-weight:600;white-space:nowrap;overflow:hidden;text-overflow:ellipsis;max-width:40vw}
.pv-bar .btn{padding:3px 10px;border-color:#616e7c;color:#fff;font-size:13px;white-space:nowrap}
.pv-bar .btn[aria-pressed=true]{background:#e11d48;border-color:#e11d48;color:#fff}
.pv-bar a{color:#93c5fd}
.pv-msg{color:#fde68a}
.pk-box{position:fixed;z-index:7;pointer-events:none;outline:2px solid #e11d48;outline-offset:0;background:rgba(225,29,72,.1);border-radius:2px}
.pk-box span{position:absolute;left:-2px;bottom:100%;margin-bottom:2px;padding:1px 6px;border-radius:3px;background:#e11d48;
color:#fff;font:12px/1.5 ui-monospace,SFMono-Regular,Menlo,monospace;white-space:nowrap;max-width:60vw;overflow:hidden;text-overflow:ellipsis}
.pk-box.low span{bottom:auto;top:100%;margin:2px 0 0}
.pk-pan{position:fixed;z-index:8;top:16px;right:16px;width:min(500px,calc(100vw - 32px));padding:14px 16px;background:var(--bg);
color:var(--fg);border-radius:var(--rad);box-shadow:0 10px 30px rgba(0,0,0,.3)}
.pk-pan h2{margin-right:28px}
.pk-pan code{display:block;padding:6px 8px;border-radius:6px;background:#f1f4f8;font:13px/1.5 ui-monospace,SFMono-Regular,Menlo,monospace;
overflow-wrap:anywhere}
.pk-pan label{display:block;margin:10px 0 4px;color:var(--mu);font-size:12px}
.pk-pan textarea{display:block;width:100%;height:150px;resize:vertical;padding:8px;border:1px solid var(--ln);border-radius:6px;
background:var(--bg);font:12px/1.5 ui-monospace,SFMono-Regular,Menlo,monospace;white-space:pre}`);

Object.assign(STRINGS.ja, {
  previewing: 'プレビュー中', restart: '最初から', pickEl: '要素を選ぶ', exit: '終了', pickHelp: 'ページ上の要素をクリック（Escで終了）',
  picked: '選んだ要素', selector: 'セレクター', yamlStep: 'ツアーのステップ（YAML）', copy: 'コピー', copied: 'コピーしました',
  copyFail: 'テキストを選択しました。Ctrl+C（⌘C）でコピーしてください', again: 'もう一度',
  noToken: 'このツアーのプレビュー用リンクがありません。', fromDesk: 'レビューデスクから開く',
  expired: 'プレビューのリンクが無効か期限切れです。', otherItem: 'このリンクは別のツアーまたはサイト用です。', failed: 'プレビューを開けませんでした。',
});
Object.assign(STRINGS.en, {
  previewing: 'Previewing', restart: 'Restart', pickEl: 'Pick an element', exit: 'Exit', pickHelp: 'Click an element on the page (Esc to stop)',
  picked: 'Picked element', selector: 'Selector', yamlStep: 'Tour step (YAML)', copy: 'Copy', copied: 'Copied',
  copyFail: 'The text is selected: press Ctrl+C (⌘C) to copy it', again: 'Pick again',
  noToken: 'There is no preview link for this tour.', fromDesk: 'Open it from the review desk',
  expired: 'The preview link is not valid or has expired.', otherItem: 'This link is for another tour or site.', failed: 'Could not open the preview.',
});
