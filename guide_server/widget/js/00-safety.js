// Safety: the widget runs once per page, and nothing it does throws into the host page.
// Every way into the widget (API calls, events, timers, observers, promises) goes through safe():
// the host page never sees an exception from us, only a console warning.
// Uses nothing from earlier files. warn() reports to the review desk through track()
// (35-transport.js), looked up only when an error happens.
if (w.Guide && w.Guide.loaded) return; // the tag was included twice

let errorsReported = 0; // widget_error events sent from this page view: at most 5
// a warning for whoever reads the console (an editor whose selector matches nothing)
const note = (m) => {
  try { console.warn('[guide]', m) } catch (_) { /* no console */ }
};
const warn = (e) => {
  note(e);
  // counted first: an error in track() itself cannot loop
  if (errorsReported++ < 5) safe(() => track('widget_error', 0, { message: String((e && e.message) || e).slice(0, 999) || '?' }))();
};
// fn, made unable to throw: its errors (and its promise's rejection) go to onError, else to warn().
const safe = (fn, onError) => function () {
  try {
    const r = fn.apply(this, arguments);
    if (r && typeof r.then === 'function') r.then(null, onError || warn);
    return r;
  } catch (e) { (onError || warn)(e) }
};
// addEventListener through safe(); returns the function that removes the listener.
const on = (el, type, fn, opt) => {
  const f = safe(fn);
  el.addEventListener(type, f, opt);
  return () => el.removeEventListener(type, f, opt);
};
const later = (fn, ms) => setTimeout(safe(fn), ms);
