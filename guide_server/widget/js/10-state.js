// State: what the widget knows about the person, the page and what is on screen, in one place.
// Later files read it freely; the comment of each field says which file changes it.
// Uses nothing from earlier files.
const state = {
  user: null, // the host app's user id from Guide('identify'), or null: anonymous (95-api.js)
  // token: the user's token signed by the host app's server, sent with each request (95-api.js, 35-transport.js)
  traits: null, // the user's traits for targeting; anonymous users' stay in localStorage (95-api.js)
  locale: null, // 'ja' or 'en' from Guide('identify'), else null: data-locale, then <html lang> (95-api.js)
  siteLocale: null, // the locale the server chose when the page did not say (the user's, or the site's default) (90-page.js)
  anon: null, // this browser's random id for an anonymous user, read once from localStorage (30-storage.js)
  support: null, // the site's "contact support" URL, or 'form' (a webhook behind the server), from GET /tours (90-page.js)
  library: [], // the tours this user may start again from the help panel, [{id, title}], from GET /tours (90-page.js)
  preview: null, // set by the editor's preview (editor part): nothing is recorded, progress or events
  checklists: [], // the checklists in the panel, each task with its `done` (80-checklist.js)
  milestones: null, // checklist events reported from this browser, "user:key", kept in localStorage (80-checklist.js)
  runs: new Set(), // every Run (the modal tour and the hints) on screen or waiting for its page (70-run.js)
  tour: null, // the Run of the one modal tour, or null (70-run.js)
  hints: {}, // hint id -> its Run, for the hints of this page (75-hints.js)
  triggers: [], // cancel functions of the element triggers waiting on this page (90-page.js)
  ended: new Set(), // ids of tours completed or dismissed in this page view: not offered again (70-run.js)
  surveysEnded: {}, // survey id -> 1 once answered, postponed or closed in this page view (60-survey.js)
  saveSeq: 0, // the number of the last progress save: only grows, even across reloads (67-progress.js)
};

// The tour and step in progress, if any: events about the page (chat, rage clicks, `settled`) carry them.
const during = () => state.tour && state.tour.ctx(state.tour.i);
