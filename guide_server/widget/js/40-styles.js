// Styles: the stylesheet of the shadow root (each part adds its own: the panel's, the survey's). Classes:
// .r the root, .pop a step (.hint a hint) with its arrow .ar, .ov/.ring the overlay and the highlight,
// .go the launcher, .cls/.cl the checklists; .busy on the root hides hints and the survey under a
// running tour; .off hides a sheet under another on a narrow screen (50-position.js). Stacking, low
// to high: hints, checklists and the survey; the overlay; the step; the launcher; the help panel.
// The host themes it through the --guide-* custom properties (docs/embed.md).
// Uses nothing from earlier files.
const CSS = `
.r{all:initial;--a:var(--guide-accent,#2563eb);--at:var(--guide-accent-text,#fff);--bg:var(--guide-bg,#fff);
--fg:var(--guide-text,#1f2933);--mu:var(--guide-muted,#616e7c);--ln:var(--guide-border,#d5dbe1);--rad:var(--guide-radius,10px);
font:14px/1.6 var(--guide-font,system-ui,-apple-system,"Segoe UI","Hiragino Sans","Noto Sans JP",sans-serif);color:var(--fg)}
.r *{box-sizing:border-box}
button,input,textarea{font:inherit;color:inherit}
a{color:var(--a)}
:focus-visible{outline:2px solid var(--a);outline-offset:2px}
.pop:focus{outline:0}
.ov{position:fixed;z-index:2;background:var(--guide-overlay,rgba(15,23,42,.55))}
.ring{position:fixed;z-index:2;border-radius:6px;box-shadow:0 0 0 3px var(--a);pointer-events:none}
.busy .hint,.busy .sv,.off{display:none!important}
.pop,.pan,.cl,.sv{background:var(--bg);color:var(--fg);border-radius:var(--rad);box-shadow:0 10px 30px rgba(0,0,0,.22)}
.pop{position:fixed;z-index:3}
.pop{width:min(340px,calc(100vw - 24px));padding:16px 18px}
.hint{z-index:1;width:min(280px,calc(100vw - 24px));padding:12px 14px;border:1px solid var(--ln)}
h2{margin:0 28px 6px 0;font-size:16px;font-weight:600;line-height:1.4}
.b{max-height:calc(100vh - 150px);overflow:auto}.b p{margin:.4em 0}.b img{max-width:100%}
.f{display:flex;gap:8px;align-items:center;justify-content:flex-end;margin-top:12px}
.n{margin-right:auto;color:var(--mu);font-size:12px}
.btn{cursor:pointer;padding:6px 14px;border:1px solid var(--ln);border-radius:6px;background:transparent}
.pri{background:var(--a);border-color:var(--a);color:var(--at)}
.x{position:absolute;top:8px;right:8px;width:28px;height:28px;border:0;background:none;cursor:pointer;font-size:20px;line-height:1;color:var(--mu)}
.go{position:fixed;z-index:4;right:20px;bottom:20px;width:52px;height:52px;border-radius:50%;border:0;cursor:pointer;
background:var(--a);color:var(--at);font-size:24px;font-weight:700;box-shadow:0 4px 14px rgba(0,0,0,.25)}
[aria-pressed=true]{border-color:var(--a);background:#e8efff}
.ar{position:absolute;width:12px;height:12px;background:inherit;transform:rotate(45deg)}
[data-side=bottom] .ar{top:-6px;left:var(--ax)}[data-side=top] .ar{bottom:-6px;left:var(--ax)}
[data-side=right] .ar{left:-6px;top:var(--ay)}[data-side=left] .ar{right:-6px;top:var(--ay)}[data-side=center] .ar{display:none}
.cl>.x{top:6px;right:6px;width:24px;height:24px;font-size:16px}
.cls{position:fixed;z-index:1;left:20px;bottom:20px;width:min(300px,calc(100vw - 100px));display:flex;flex-direction:column;gap:8px}
.cl{padding:10px 14px;position:relative}.done>button{padding-right:26px}
.cl>button{display:flex;width:100%;gap:8px;border:0;background:none;padding:4px 0;cursor:pointer;font-weight:600;text-align:left}
.cl>button span{margin-left:auto;color:var(--mu);font-weight:400}
.bar{height:6px;border-radius:3px;background:var(--ln);overflow:hidden;margin:4px 0}
.bar i{display:block;height:100%;background:var(--a)}
.cl ul{list-style:none;margin:8px 0 0;padding:0}
.cl li{display:flex;gap:8px;align-items:center;padding:5px 0;border-top:1px solid var(--ln)}
.cl li span{flex:1}.cl .ok span{color:var(--mu);text-decoration:line-through}
.cl li .btn{padding:2px 10px;font-size:13px}
@media (max-width:480px){
.pop,.pan,.sv,.cls{left:0!important;right:0!important;top:auto!important;bottom:0!important;width:100%!important;max-height:70vh;border-radius:var(--rad) var(--rad) 0 0}
.b{max-height:50vh}.cls{gap:0;max-height:50vh;overflow:auto}.cl{border-radius:0}.ar{display:none}}
@media (prefers-reduced-motion:no-preference){.pop,.pan{animation:in .18s ease-out}
@keyframes in{from{opacity:0;transform:translateY(6px)}}}`;
