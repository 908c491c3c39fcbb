// The host side of the test pages: the queue stub, identify from the query string (kept for the
// tab, so reloads and navigation stay signed in), and traps for anything that reaches the page.
window.Guide = window.Guide || function () { (window.Guide.q = window.Guide.q || []).push(arguments); };
window.hostErrors = [];
window.onerror = function (message) { window.hostErrors.push(String(message)); };
window.addEventListener('unhandledrejection', function (e) { window.hostErrors.push('unhandled rejection: ' + String(e.reason)); });
window.cspViolations = [];
document.addEventListener('securitypolicyviolation', function (e) {
  window.cspViolations.push(e.effectiveDirective + ' ' + e.blockedURI);
});
(function () {
  var q = new URLSearchParams(location.search);
  ['user', 'traits', 'locale'].forEach(function (k) { if (q.has(k)) sessionStorage.setItem('t-' + k, q.get(k)); });
  var user = sessionStorage.getItem('t-user'), traits = sessionStorage.getItem('t-traits'), locale = sessionStorage.getItem('t-locale');
  if (user || traits || locale) {
    Guide('identify', { id: user || undefined, traits: traits ? JSON.parse(traits) : undefined, locale: locale || undefined });
  }
})();
