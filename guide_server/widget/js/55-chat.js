// The help chat: a panel above the launcher where the user asks; answers come from the help
// articles with their source, 👍/👎 feedback, and the way to a human when there is no answer.
// Uses on (00-safety.js), state, during (10-state.js), t (15-strings.js), h, deepActive, safeUrl, pageUrl (20-dom.js),
// emit (25-host-events.js), anonId (30-storage.js), converse, connect, idle, track (35-transport.js),
// shell (45-shell.js).
const chat = (() => {
  let panel = null; // the chat's dialog once opened (kept while closed, so the log stays), or null
  let log = null; // its list of messages (role="log")
  let input = null; // its question field

  const link = (url, text, cls, click) => (safeUrl(url) ? h('a', { href: url, class: cls, target: '_blank', rel: 'noopener', onclick: click }, text) : h('span', null, text));
  // the way to a human: reported when offered and when taken
  function supportLink(s, qid) {
    if (!(s = safeUrl(s || state.support))) return null;
    const p = qid ? { question_id: qid } : null;
    track('escalation_offered', 0, p);
    return link(s, t('support'), 'src', () => track('escalation_taken', 0, p));
  }
  function say(node) {
    log.append(node);
    log.scrollTop = log.scrollHeight;
    return node;
  }

  function answer(a) {
    const ans = a.answer, kids = [];
    if (a.outcome === 'answered' && ans) {
      kids.push(h('p', null, ans.snippet || ''),
        link(ans.url, t('source') + ': ' + ans.title + (ans.section && ans.section.heading ? ' › ' + ans.section.heading : ''), 'src'));
    } else {
      kids.push(h('p', null, a.message || ''));
      if ((a.suggestions || []).length) kids.push(h('ul', null, a.suggestions.map((s) => h('li', null, link(s.url, s.title)))));
      if (a.outcome === 'no_answer') kids.push(supportLink(a.escalation && a.escalation.support, a.question_id));
    }
    if (a.question_id) {
      const row = h('div', { class: 'fb' }, [true, false].map((ok) => h('button', {
        class: 'btn', type: 'button', 'aria-label': t(ok ? 'yes' : 'no'), 'aria-pressed': 'false',
        onclick: (e) => vote(a.question_id, ok, row, e.currentTarget),
      }, ok ? '👍' : '👎')));
      kids.push(row);
    }
    return h('div', { class: 'm a' }, kids);
  }

  function vote(qid, helpful, row, btn) {
    [].forEach.call(row.children, (b) => (b.disabled = true));
    btn.setAttribute('aria-pressed', 'true');
    track('answer_feedback', 0, { question_id: qid, helpful });
    return converse('feedback', { question_id: qid, helpful })
      .catch(() => ({}))
      .then((r) => say(h('div', { class: 'm a' }, h('p', null, t(helpful ? 'thanks' : 'sorry')),
        !helpful && supportLink(r.escalation && r.escalation.support, qid))));
  }

  function ask(q) {
    const cur = state.tour, step = cur && cur.step(), c = during();
    const body = { question: q, user: state.user || undefined, anon: state.user ? undefined : anonId(),
      context: { url: pageUrl(), tour_id: cur ? cur.tour.id : null, step_id: step ? step.id : null } };
    let got = null; // the server's answer
    say(h('div', { class: 'm u' }, q));
    const wait = say(h('div', { class: 'm a' }, t('wait')));
    return converse('ask', body)
      .then((a) => {
        got = a;
        if (a.question_id) track('question_asked', c, { question_id: a.question_id });
        return answer(a);
      }, () => h('div', { class: 'm a' }, h('p', null, t('fail')), supportLink()))
      .then((node) => {
        wait.remove();
        say(node);
        emit('chat:answer', { question: q, outcome: got ? got.outcome : 'error', question_id: (got && got.question_id) || null });
      });
  }

  const isOpen = () => !!panel && panel.isConnected;
  function open() {
    const fresh = !isOpen();
    shell.attach();
    if (!panel) {
      input = h('input', { type: 'text', maxlength: '1000', autocomplete: 'off' });
      log = h('div', { class: 'log', role: 'log', 'aria-live': 'polite' });
      panel = h('div', { class: 'chat', role: 'dialog', 'aria-labelledby': 'gch' },
        h('header', null, h('h2', { id: 'gch' }), h('button', { class: 'x', type: 'button', onclick: close }, '×')),
        log,
        h('form', { onsubmit: (e) => { e.preventDefault(); const q = input.value.trim(); input.value = ''; if (q) return ask(q) } },
          input, h('button', { class: 'btn pri', type: 'submit' })));
      on(panel, 'keydown', (e) => e.key === 'Escape' && close());
      say(h('div', { class: 'm a' }, t('hello')));
    }
    // labels follow the current locale each time the panel opens
    panel.querySelector('h2').textContent = t('help');
    panel.querySelector('.x').setAttribute('aria-label', t('close'));
    panel.querySelector('form .btn').textContent = t('send');
    input.setAttribute('aria-label', t('ask'));
    input.setAttribute('placeholder', t('ask') + '…');
    shell.add(panel);
    if (shell.launcher) shell.launcher.setAttribute('aria-expanded', 'true');
    input.focus({ preventScroll: true });
    connect(); // the chat's socket opens now, before the first question
    if (fresh) {
      track('chat_opened', during());
      emit('chat:open');
    }
  }
  function close() {
    if (!panel) return;
    const had = panel.contains(deepActive()), was = isOpen();
    panel.remove();
    idle(); // the socket closes a minute after the last message
    if (shell.launcher) {
      shell.launcher.setAttribute('aria-expanded', 'false');
      if (had) shell.launcher.focus({ preventScroll: true });
    }
    if (was) emit('chat:close');
  }

  return {
    open, close, isOpen,
    toggle: () => (isOpen() ? close() : open()),
    // the key handler of a tour leaves the chat's keys alone (66-step-keys.js)
    owns: (node) => !!panel && panel.contains(node),
    // Guide('reset'): closed, and the next person starts with an empty log
    reset() {
      if (log) log.textContent = '';
      close();
      panel = null;
    },
  };
})();
