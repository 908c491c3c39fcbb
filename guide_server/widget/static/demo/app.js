// The demo host app: a tiny invoicing single-page app with the guide widget installed.
// It is the customer's code, not the widget: it only talks to the widget through Guide(...).
// No innerHTML anywhere, so the page runs under the strict CSP (with Trusted Types) it is served with.

// The queue stub: Guide(...) calls made before embed.js has loaded are replayed by it.
window.Guide = window.Guide || function () { (window.Guide.q = window.Guide.q || []).push(arguments); };

(function () {
  'use strict';

  const TEXT = {
    ja: {
      brand: '請求クラウド', dashboard: 'ダッシュボード', invoices: '請求書', partners: '取引先', settings: '設定', switchTo: 'English',
      note: 'これはデモです。右下の「?」からヘルプに質問できます（例: 請求書をメールで送りたい）。',
      billed: '今月の請求額', unpaid: '未入金', overdue: '期限超過', overdueCount: '2 件',
      reports: 'レポート', reportsText: '売上と入金の推移をグラフで確認できます（プロプラン）。', quickNew: '請求書を作成',
      listTitle: '請求書一覧', newInvoice: '新規作成', exportCsv: 'CSV出力',
      cols: ['番号', '取引先', '金額', '支払期限', '状態', ''], status: { draft: '下書き', sent: '送付済み', paid: '入金済み' }, send: '送付',
      sentMsg: '請求書を送付しました。', exported: 'CSVを書き出しました（デモ）。',
      newTitle: '請求書の作成', partnerName: '取引先名', amount: '金額（円）', due: '支払期限', item: '品目', save: '保存', cancel: 'キャンセル',
      required: '取引先名と金額を入力してください。',
      partnersTitle: '取引先', partnerCols: ['取引先', '担当者', 'メールアドレス'], inviteLabel: '招待するメールアドレス', invite: '招待',
      invited: '招待メールを送信しました。',
      settingsTitle: '設定', plan: 'プラン', free: 'フリー', pro: 'プロ', language: '表示言語',
      planNote: 'プランを変えると、そのプランのユーザーにだけ表示されるツアーが変わります（ダッシュボードを開いてください）。',
      reset: 'デモをリセット', resetNote: '新しいユーザーとして最初からやり直します。', user: 'ユーザー',
    },
    en: {
      brand: 'Invoice Cloud', dashboard: 'Dashboard', invoices: 'Invoices', partners: 'Partners', settings: 'Settings', switchTo: '日本語',
      note: 'This is a demo. Ask the help chat (the "?" at the bottom right), e.g. "How do I export invoices to CSV?"',
      billed: 'Billed this month', unpaid: 'Unpaid', overdue: 'Overdue', overdueCount: '2 invoices',
      reports: 'Reports', reportsText: 'Charts of sales and payments over time (Pro plan).', quickNew: 'Create an invoice',
      listTitle: 'Invoices', newInvoice: 'New invoice', exportCsv: 'Export CSV',
      cols: ['No.', 'Partner', 'Amount', 'Due', 'Status', ''], status: { draft: 'Draft', sent: 'Sent', paid: 'Paid' }, send: 'Send',
      sentMsg: 'The invoice was sent.', exported: 'CSV exported (demo).',
      newTitle: 'New invoice', partnerName: 'Partner name', amount: 'Amount (JPY)', due: 'Due date', item: 'Item', save: 'Save', cancel: 'Cancel',
      required: 'Enter the partner name and the amount.',
      partnersTitle: 'Partners', partnerCols: ['Partner', 'Contact', 'E-mail'], inviteLabel: 'E-mail address to invite', invite: 'Invite',
      invited: 'The invitation was sent.',
      settingsTitle: 'Settings', plan: 'Plan', free: 'Free', pro: 'Pro', language: 'Language',
      planNote: 'Changing the plan changes which tours you see (open the dashboard).',
      reset: 'Reset the demo', resetNote: 'Start over as a new user.', user: 'User',
    },
  };

  const SAMPLE = [
    { no: 'INV-0012', partner: { ja: '株式会社ミドリ商事', en: 'Midori Trading Co.' }, amount: 330000, due: '2025-12-31', status: 'sent' },
    { no: 'INV-0011', partner: { ja: '山田デザイン事務所', en: 'Yamada Design Studio' }, amount: 88000, due: '2025-11-30', status: 'paid' },
    { no: 'INV-0010', partner: { ja: '合同会社ソラ', en: 'Sora LLC' }, amount: 152000, due: '2025-11-15', status: 'sent' },
    { no: 'INV-0009', partner: { ja: '北海物産株式会社', en: 'Hokkai Goods Inc.' }, amount: 540000, due: '2025-10-31', status: 'draft' },
  ];
  const PARTNERS = [
    [{ ja: '株式会社ミドリ商事', en: 'Midori Trading Co.' }, { ja: '佐藤 花子', en: 'Hanako Sato' }, 'sato@midori.example'],
    [{ ja: '山田デザイン事務所', en: 'Yamada Design Studio' }, { ja: '山田 太郎', en: 'Taro Yamada' }, 'taro@yamada.example'],
    [{ ja: '合同会社ソラ', en: 'Sora LLC' }, { ja: '鈴木 一郎', en: 'Ichiro Suzuki' }, 'suzuki@sora.example'],
  ];

  const saved = (key, fallback) => {
    try { return JSON.parse(localStorage.getItem('demo-' + key)) ?? fallback; } catch (e) { return fallback; }
  };
  const keep = (key, value) => { try { localStorage.setItem('demo-' + key, JSON.stringify(value)); } catch (e) { /* private mode */ } };

  // Who is signed in: the demo's server keeps the user and their plan, and signs them into the page
  // it renders (a <meta>), as a customer's server does (docs/embed.md, "Identity verification").
  const signedIn = JSON.parse(document.querySelector('meta[name=demo-session]').content);
  const state = {
    lang: saved('lang', 'ja'),
    plan: signedIn.plan,
    user: signedIn.user,
    token: signedIn.token,
    invoices: saved('invoices', SAMPLE),
  };
  const t = () => TEXT[state.lang];
  const local = (v) => (typeof v === 'string' ? v : v[state.lang]);
  const yen = (n) => '¥' + Number(n).toLocaleString('ja-JP');

  // The widget sends the token on; its traits (the plan) are the ones tours may trust. Without a
  // token (a server whose demo site does not verify users) the page's own traits are used.
  function identify() {
    const traits = state.token ? undefined : { plan: state.plan, role: 'admin' };
    Guide('identify', { id: state.user, token: state.token, traits, locale: state.lang });
  }
  identify();

  // A change of who is signed in, or of their plan, goes through the demo's server, which signs anew.
  function changeSession(change) {
    return fetch('/demo/session', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(change) })
      .then((r) => r.json())
      .then((session) => { Object.assign(state, session); identify(); });
  }

  function el(tag, attrs, ...kids) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
      else if (v !== null && v !== undefined && v !== false) e.setAttribute(k, v === true ? '' : v);
    }
    for (const kid of kids.flat()) if (kid !== null && kid !== undefined && kid !== false) e.append(kid);
    return e;
  }

  function go(path) {
    if (path !== location.pathname) history.pushState(null, '', path);
    render();
  }

  function flash(text) {
    const msg = el('p', { class: 'flash', role: 'status' }, text);
    document.getElementById('main').prepend(msg);
    setTimeout(() => msg.remove(), 4000);
  }

  // ---- pages
  function dashboard() {
    const x = t();
    const card = (label, value, id) => el('div', { class: 'card', id }, el('h3', null, label), el('p', { class: 'big' }, value));
    return [
      el('h1', null, x.dashboard),
      el('div', { class: 'cards' },
        card(x.billed, yen(1280000), 'card-billed'),
        card(x.unpaid, yen(342000), 'card-unpaid'),
        card(x.overdue, x.overdueCount, 'card-overdue')),
      el('div', { class: 'card wide', id: 'reports-card' }, el('h3', null, x.reports), el('p', null, x.reportsText),
        el('div', { class: 'chart', 'aria-hidden': 'true' }, [1, 2, 3, 4, 5, 6].map(() => el('span')))),
      el('p', null, el('button', { type: 'button', id: 'quick-new', class: 'primary', onclick: () => go('/demo/invoices/new') }, x.quickNew)),
    ];
  }

  function invoices() {
    const x = t();
    return [
      el('h1', null, x.listTitle),
      el('div', { class: 'toolbar' },
        el('button', { type: 'button', id: 'new-invoice', class: 'primary', onclick: () => go('/demo/invoices/new') }, x.newInvoice),
        el('button', { type: 'button', id: 'export-csv', onclick: () => { flash(x.exported); Guide('track', 'csv_exported'); } }, x.exportCsv)),
      el('div', { class: 'scroll' }, el('table', { id: 'invoice-table' },
        el('thead', null, el('tr', null, x.cols.map((c) => el('th', { scope: 'col' }, c)))),
        el('tbody', null, state.invoices.map((inv) => el('tr', null,
          el('td', null, inv.no), el('td', null, local(inv.partner)), el('td', { class: 'num' }, yen(inv.amount)),
          el('td', null, inv.due), el('td', null, el('span', { class: 'status ' + inv.status }, x.status[inv.status])),
          el('td', null, inv.status === 'draft' || inv.status === 'sent' ? el('button', {
            type: 'button', class: 'send small',
            onclick: () => { inv.status = 'sent'; keep('invoices', state.invoices); Guide('track', 'invoice_sent'); render(); flash(x.sentMsg); },
          }, x.send) : '')))))),
    ];
  }

  function newInvoice() {
    const x = t();
    const field = (id, label, attrs) => el('p', null, el('label', { for: id }, label), el('input', Object.assign({ id, name: id }, attrs)));
    const form = el('form', { id: 'invoice-form', novalidate: true },
      field('partner-name', x.partnerName, { autocomplete: 'organization', required: true }),
      field('item', x.item, {}),
      field('amount', x.amount, { inputmode: 'numeric', required: true, pattern: '[^1-9]*[1-9].*' }), // what the save below takes
      field('due-date', x.due, { type: 'date' }),
      el('p', { class: 'actions' },
        el('button', { type: 'submit', id: 'save-invoice', class: 'primary' }, x.save),
        el('button', { type: 'button', onclick: () => go('/demo/invoices') }, x.cancel)));
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      const partner = form.elements['partner-name'].value.trim();
      const amount = parseInt(form.elements.amount.value.replace(/[^0-9]/g, ''), 10);
      if (!partner || !amount) { flash(x.required); return; }
      const no = 'INV-' + String(13 + state.invoices.length - SAMPLE.length).padStart(4, '0');
      state.invoices.unshift({ no, partner: { ja: partner, en: partner }, amount, due: form.elements['due-date'].value || '-', status: 'draft' });
      keep('invoices', state.invoices);
      Guide('track', 'invoice_created', { amount });
      go('/demo/invoices');
    });
    return [el('h1', null, x.newTitle), form];
  }

  function partners() {
    const x = t();
    const email = el('input', { id: 'invite-email', type: 'email', autocomplete: 'email', required: true });
    const form = el('form', { id: 'invite-form', class: 'inline' },
      el('label', { for: 'invite-email' }, x.inviteLabel), email,
      el('button', { type: 'submit', id: 'invite-partner', class: 'primary' }, x.invite));
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      Guide('track', 'partner_invited');
      email.value = '';
      flash(x.invited);
    });
    return [
      el('h1', null, x.partnersTitle),
      el('table', { id: 'partner-table' },
        el('thead', null, el('tr', null, x.partnerCols.map((c) => el('th', { scope: 'col' }, c)))),
        el('tbody', null, PARTNERS.map((p) => el('tr', null, el('td', null, local(p[0])), el('td', null, local(p[1])), el('td', null, p[2]))))),
      form,
    ];
  }

  function settings() {
    const x = t();
    const select = (id, value, options, onchange) => el('select', { id, onchange },
      options.map(([v, label]) => el('option', { value: v, selected: v === value }, label)));
    return [
      el('h1', null, x.settingsTitle),
      el('p', null, el('label', { for: 'plan' }, x.plan),
        select('plan', state.plan, [['free', x.free], ['pro', x.pro]], (e) => changeSession({ plan: e.target.value }))),
      el('p', { class: 'hint' }, x.planNote),
      el('p', null, el('label', { for: 'language' }, x.language),
        select('language', state.lang, [['ja', '日本語'], ['en', 'English']], (e) => setLang(e.target.value))),
      el('p', null, x.user + ': ', el('code', null, state.user)),
      el('p', null, el('button', { type: 'button', id: 'reset-demo', onclick: resetDemo }, x.reset), ' ', el('span', { class: 'hint' }, x.resetNote)),
    ];
  }

  const PAGES = [
    [/^\/demo\/?$/, dashboard, 'nav-dashboard'],
    [/^\/demo\/invoices\/new\/?$/, newInvoice, 'nav-invoices'],
    [/^\/demo\/invoices\/?$/, invoices, 'nav-invoices'],
    [/^\/demo\/partners\/?$/, partners, 'nav-partners'],
    [/^\/demo\/settings\/?$/, settings, 'nav-settings'],
  ];

  function render() {
    const x = t();
    document.documentElement.lang = state.lang;
    document.title = x.brand + ' (demo)';
    document.getElementById('brand').textContent = x.brand;
    for (const key of ['dashboard', 'invoices', 'partners', 'settings']) document.getElementById('nav-' + key).textContent = x[key];
    document.getElementById('lang').textContent = x.switchTo;
    document.getElementById('note').textContent = x.note;
    const page = PAGES.find(([re]) => re.test(location.pathname)) || PAGES[0];
    for (const a of document.querySelectorAll('nav a')) {
      if (a.id === page[2]) a.setAttribute('aria-current', 'page');
      else a.removeAttribute('aria-current');
    }
    document.getElementById('main').replaceChildren(...page[1]());
  }

  function setLang(lang) {
    state.lang = lang;
    keep('lang', lang);
    identify();
    render();
  }

  function resetDemo() {
    localStorage.removeItem('demo-invoices');
    state.invoices = SAMPLE;
    Guide('reset');
    changeSession({ reset: true, plan: 'free' }).then(() => go('/demo'));
  }

  document.addEventListener('DOMContentLoaded', () => {
    document.addEventListener('click', (e) => {
      const a = e.target.closest && e.target.closest('a[data-nav]');
      if (!a || e.metaKey || e.ctrlKey || e.shiftKey || e.button !== 0) return;
      e.preventDefault();
      go(a.getAttribute('href'));
    });
    document.getElementById('lang').addEventListener('click', () => setLang(state.lang === 'ja' ? 'en' : 'ja'));
    window.addEventListener('popstate', render);
    render();
  });
})();
