// Configuration: the data-* attributes of our own <script> tag (docs/embed.md lists them).
// Uses nothing from earlier files.
const tag = d.currentScript || d.querySelector('script[data-site][src*="embed.js"]');
const config = Object.assign({}, tag && tag.dataset); // site, locale, chat, api
const SITE = config.site;
const API = (config.api || (tag ? new URL(tag.src, location.href).origin : '')).replace(/\/$/, '');
const KEY = 'guide:' + SITE; // the widget's key in localStorage and sessionStorage
