// The survey (NPS) the server says is due: small, at the bottom, never blocking, hidden under a
// tour. A score 0-10, then an optional comment; "later", close and Escape end it too. A part of its
// own (47-parts.js): loaded when the server first says a survey is due.
// Uses later, on (00-safety.js), state.surveysEnded (10-state.js), t (15-strings.js),
// h, nextId, deepActive (20-dom.js), emit (25-host-events.js), track, flush (35-transport.js), shell (45-shell.js), reflow (50-position.js).
shell.style(`
.sv{position:fixed;z-index:1;left:0;right:0;bottom:20px;margin:auto;width:min(400px,calc(100vw - 24px));padding:14px 16px}
.sc{display:flex;gap:3px;margin:10px 0 4px}.sc .btn{flex:1;padding:4px 0}
.sh{display:flex;justify-content:space-between}
textarea{display:block;width:100%;margin-top:4px;resize:vertical;padding:8px 10px;border:1px solid var(--ln);border-radius:8px;background:var(--bg)}
label{display:block;margin-top:8px}`);

Object.assign(STRINGS.ja, { later: 'あとで回答する', answered: 'ご回答ありがとうございました。', low: 'まったく思わない',
  high: '非常にそう思う', why: 'そう答えた理由をお聞かせください（任意）', points: '点' });
Object.assign(STRINGS.en, { later: 'Ask me later', answered: 'Thank you for your answer.', low: 'Not at all likely',
  high: 'Extremely likely', why: 'What is the main reason for your score? (optional)', points: ' out of 10' });

const survey = (() => {
  let panel = null; // the survey on screen, or null

  function show(sv) {
    if (!sv || panel || state.surveysEnded[sv.id]) return;
    let score = null;
    const id = nextId(), txt = h('textarea', { rows: '3', maxlength: '1000' });
    const more = h('div', { hidden: true }, h('label', null, sv.comment_prompt || t('why'), txt),
      h('div', { class: 'f' }, h('button', { class: 'btn pri', type: 'button', onclick: () => end() }, t('send'))));
    const scale = h('div', { class: 'sc', role: 'group', 'aria-labelledby': id, 'aria-describedby': id + 'h' },
      [...Array(11).keys()].map((n) => h('button', { // 0 to 10
        class: 'btn', type: 'button', 'aria-pressed': 'false', 'aria-label': n + t('points'), onclick: () => {
          score = n;
          [].forEach.call(scale.children, (b, k) => b.setAttribute('aria-pressed', String(k === n)));
          more.hidden = false;
          txt.focus();
        },
      }, String(n))));
    // answered (a score was chosen, whatever closed it), nps_later or nps_dismissed
    const end = (type) => {
      if (state.surveysEnded[sv.id]) return; // once: Send, later, close and Escape all end it
      const had = box.contains(deepActive()), answered = score != null, comment = txt.value.trim();
      state.surveysEnded[sv.id] = 1;
      track(answered ? 'nps_answered' : type, 0, Object.assign({ survey: sv.id }, answered && { score, comment }));
      flush(); // the server asks again only once it knows
      panel = null;
      box.textContent = '';
      if (answered) {
        box.append(h('p', { role: 'status' }, t('answered')));
        later(() => { box.remove(); reflow() }, 3000);
      } else box.remove();
      reflow();
      if (had && shell.launcher) shell.launcher.focus({ preventScroll: true });
      emit(answered ? 'survey:answer' : 'survey:dismiss',
        Object.assign({ survey: sv.id }, answered ? { score, comment } : { later: type === 'nps_later' }));
    };
    const box = (panel = h('section', { class: 'sv', role: 'dialog', 'aria-labelledby': id },
      h('h2', { id }, sv.question), scale,
      h('div', { class: 'n sh', id: id + 'h' }, h('span', null, '0: ' + t('low')), h('span', null, '10: ' + t('high'))),
      more,
      h('div', { class: 'f' }, h('button', { class: 'btn', type: 'button', onclick: () => end('nps_later') }, t('later'))),
      h('button', { class: 'x', type: 'button', 'aria-label': t('close'), onclick: () => end('nps_dismissed') }, '×')));
    on(box, 'keydown', (e) => e.key === 'Escape' && end('nps_dismissed'));
    shell.add(box);
    reflow(); // a narrow screen shows one sheet at a time
    emit('survey:show', { survey: sv.id });
  }

  return {
    show,
    // Guide('reset'): gone, and any survey may be shown again
    reset() {
      if (panel) panel.remove();
      panel = null;
      state.surveysEnded = {};
    },
  };
})();
return survey;
