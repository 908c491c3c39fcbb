// The chat, inside the help panel (20-panel.js): answers come from the help articles with their
// source, 👍/👎 feedback (👎 with an optional comment), and a way to reach a person when the bot
// cannot help: a short form whose message reaches the site's support with the question, the answer
// given, the page and the tour step (POST /escalations: a signed webhook, or a prefilled e-mail).
// Uses later (00-safety.js), state, during (10-state.js), t (15-strings.js), h, pageUrl (20-dom.js), emit (25-host-events.js),
// anonId (30-storage.js), http, converse, track (35-transport.js); link (20-panel.js).
const talk = (() => {
  let log = null; // the messages (role="log"), kept while the panel is closed

  function say(node) {
    log.append(node);
    node.scrollIntoView({ block: 'nearest' });
    return node;
  }
  const where = () => {
    const cur = state.tour, step = cur && cur.step();
    return { url: pageUrl(), tour_id: cur ? cur.tour.id : null, step_id: step ? step.id : null };
  };
  const fields = (list) => [].forEach.call(list, (x) => (x.disabled = true));

  // "Contact a person": reported when offered; opens the form when taken.
  function human(reason, qid, question) {
    if (!state.support) return null;
    const p = qid ? { question_id: qid } : null;
    track('escalation_offered', 0, p);
    const b = h('button', { class: 'btn', type: 'button', onclick: () => b.replaceWith(form(reason, qid, question, p)) }, t('human'));
    return b;
  }
  function form(reason, qid, question, p) {
    const msg = h('textarea', { rows: '3', maxlength: '2000', required: true }), mail = !state.user && h('input', { type: 'email', maxlength: '254', autocomplete: 'email' });
    msg.value = question || '';
    const f = h('form', { onsubmit: (e) => { e.preventDefault(); return send() } },
      h('label', null, t('message'), msg), mail && h('label', null, t('email'), mail),
      h('div', { class: 'f' }, h('button', { class: 'btn pri', type: 'submit' }, t('send'))));
    async function send() {
      const message = msg.value.trim();
      if (!message) return msg.focus();
      fields(f.querySelectorAll('button,textarea,input'));
      track('escalation_taken', 0, p);
      const r = await http('escalations', { message, reason, question_id: qid || undefined, email: (mail && mail.value.trim()) || undefined,
        user: state.user || undefined, anon: state.user ? undefined : anonId(), context: where() }).catch(() => null);
      const done = r && r.mailto ? h('p', null, link(r.mailto, t('support'), 'src'), t('mailed')) :
        r ? h('p', { tabindex: '-1' }, t('sent')) : h('p', null, t('fail'), ' ', link(state.support, t('support'), 'src'));
      f.replaceWith(done);
      (done.querySelector('a') || done).focus();
      emit('chat:escalate', { reason, question_id: qid || null, delivery: r ? r.delivery : 'error' });
    }
    later(() => msg.focus(), 0);
    return f;
  }

  // The extract with the question's words in <mark>: built as nodes, the text is never read as HTML.
  function marked(x) {
    const p = h('p', { class: 'ex' }), terms = (x.terms || []).filter(Boolean);
    for (let s = x.text; s;) {
      let at = -1, w = '';
      terms.forEach((m) => { const i = s.indexOf(m); if (i >= 0 && (at < 0 || i < at || (i === at && m.length > w.length))) at = i, w = m; });
      if (at < 0) { p.append(s); break; }
      p.append(s.slice(0, at), h('mark', null, w));
      s = s.slice(at + w.length);
    }
    return p;
  }

  function answer(a, q) {
    const ans = a.answer, kids = [];
    // which FAQ of the answer was opened: the review desk's resolution rate counts it
    const opened = (faq, which, rank) => a.question_id && (() => track('answer_opened', 0, { question_id: a.question_id, faq_id: faq.id, which, rank }));
    const faqs = (list, which) => h('ul', { class: which === 'related' ? 'rl' : null }, list.map((s, i) => h('li', null,
      link(s.url, s.title, null, opened(s, which, i)), s.reason && h('small', { class: 'why' }, s.reason))));
    if (a.outcome === 'answered' && ans) {
      kids.push(ans.extract ? marked(ans.extract) : h('p', null, ans.snippet || ''),
        (ans.steps || []).length && h('ol', { class: 'st' }, ans.steps.map((x) => h('li', null, x))),
        link(ans.url, t('source') + ': ' + ans.title + (ans.section && ans.section.heading ? ' › ' + ans.section.heading : ''), 'src', opened(ans, 'source')));
      // the FAQs ranked next that share a word with the question (the server leaves out the others)
      if ((a.suggestions || []).length) kids.push(h('p', { class: 'rel' }, t('related')), faqs(a.suggestions, 'related'));
    } else {
      kids.push(h('p', null, a.message || ''));
      if ((a.suggestions || []).length) kids.push(faqs(a.suggestions, 'suggestion'));
      if (a.outcome === 'no_answer') kids.push(human('no_answer', a.question_id, q));
    }
    if (a.question_id) {
      const fb = h('div', { class: 'fb' }, [true, false].map((ok) => h('button', {
        class: 'btn', type: 'button', 'aria-pressed': 'false', onclick: (e) => vote(a.question_id, ok, fb, e.currentTarget, q),
      }, t(ok ? 'yes' : 'no'))));
      kids.push(fb);
    }
    return h('div', { class: 'm a' }, kids);
  }

  // 👍/👎: sent at once; 👎 then offers a comment (sent with the same feedback) and a person.
  function vote(qid, helpful, fb, btn, q) {
    fields(fb.children);
    btn.setAttribute('aria-pressed', 'true');
    track('answer_feedback', 0, { question_id: qid, helpful });
    return converse('feedback', { question_id: qid, helpful })
      .catch(() => ({}))
      .then((r) => {
        const thanks = h('p', { tabindex: '-1' }, t(helpful ? 'thanks' : 'sorry'));
        let more = null;
        if (!helpful) {
          const txt = h('textarea', { rows: '2', maxlength: '2000' });
          more = h('form', { onsubmit: (e) => {
            e.preventDefault();
            const comment = txt.value.trim();
            fields(more.querySelectorAll('button,textarea'));
            if (comment && r.feedback_id) http('feedback', { question_id: qid, helpful, comment, feedback_id: r.feedback_id }).catch(() => 0);
            more.replaceWith(h('p', null, t('thanks')));
          } }, h('label', null, t('why2'), txt),
          h('div', { class: 'f' }, h('button', { class: 'btn pri', type: 'submit' }, t('send'))));
        }
        say(h('div', { class: 'm a' }, thanks, more, !helpful && human('unhelpful', qid, q)));
        // the focus stays in the panel (the pressed button is disabled now): Escape still closes it
        (more ? more.querySelector('textarea') : thanks).focus({ preventScroll: true });
      });
  }

  function ask(q) {
    const c = during(), body = { question: q, user: state.user || undefined, anon: state.user ? undefined : anonId(), context: where() };
    let got = null; // the server's answer
    say(h('div', { class: 'm u' }, q));
    const wait = say(h('div', { class: 'm a' }, t('wait')));
    return converse('ask', body)
      .then((a) => {
        got = a;
        if (a.question_id) track('question_asked', c, { question_id: a.question_id });
        return answer(a, q);
      }, () => h('div', { class: 'm a' }, h('p', null, t('fail')), link(state.support, t('support'), 'src')))
      .then((node) => {
        wait.remove();
        say(node);
        emit('chat:answer', { question: q, outcome: got ? got.outcome : 'error', question_id: (got && got.question_id) || null });
      });
  }

  return {
    ask,
    log: () => log || (log = h('div', { class: 'log', role: 'log', 'aria-live': 'polite' }, h('div', { class: 'm a' }, t('hello')))),
    reset: () => (log = null),
  };
})();
