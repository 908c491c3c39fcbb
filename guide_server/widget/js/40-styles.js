// Styles: the one stylesheet of the shadow root. Classes: .r the root, .pop a step (.hint a hint),
// .ov/.ring the overlay and the highlight, .go the launcher, .chat, .cls/.cl the checklists, .sv the
// survey; .busy on the root hides hints and the survey under a running tour. The host themes it
// through the --guide-* custom properties (docs/embed.md).
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
.busy .hint,.busy .sv{display:none}
.pop,.chat,.cl,.sv{background:var(--bg);color:var(--fg);border-radius:var(--rad);box-shadow:0 10px 30px rgba(0,0,0,.22)}
.pop,.chat{position:fixed;z-index:3}
.pop{width:min(340px,calc(100vw - 24px));max-height:calc(100vh - 24px);overflow:auto;padding:16px 18px}
.hint{z-index:1;width:min(280px,calc(100vw - 24px));padding:12px 14px;border:1px solid var(--ln)}
h2{margin:0 28px 6px 0;font-size:16px;font-weight:600;line-height:1.4}
.b p{margin:.4em 0}.b img{max-width:100%}
.f{display:flex;gap:8px;align-items:center;margin-top:12px}
.n{margin-right:auto;color:var(--mu);font-size:12px}
.btn{cursor:pointer;padding:6px 14px;border:1px solid var(--ln);border-radius:6px;background:transparent}
.pri{background:var(--a);border-color:var(--a);color:var(--at)}
.x{position:absolute;top:8px;right:8px;width:28px;height:28px;border:0;background:none;cursor:pointer;font-size:20px;line-height:1;color:var(--mu)}
.go{position:fixed;z-index:1;right:20px;bottom:20px;width:52px;height:52px;border-radius:50%;border:0;cursor:pointer;
background:var(--a);color:var(--at);font-size:24px;font-weight:700;box-shadow:0 4px 14px rgba(0,0,0,.25)}
.chat{right:20px;bottom:84px;width:min(370px,calc(100vw - 24px));height:min(540px,calc(100vh - 110px));display:flex;flex-direction:column}
.chat header{display:flex;padding:12px 16px;border-bottom:1px solid var(--ln)}
.chat h2{flex:1;margin:0}
.chat .x{position:static}
.log{flex:1;overflow:auto;padding:12px;display:flex;flex-direction:column;gap:8px}
.m{max-width:88%;padding:8px 12px;border-radius:12px;background:#f1f4f8;align-self:flex-start;overflow-wrap:anywhere}
.m p{margin:0 0 4px}.m ul{margin:4px 0;padding-left:18px}
.u{align-self:flex-end;background:var(--a);color:var(--at)}
.src{display:block;font-size:13px}
.fb{display:flex;gap:6px;margin-top:6px}.fb .btn{padding:2px 10px}
[aria-pressed=true]{border-color:var(--a);background:#e8efff}
form{display:flex;gap:6px;padding:10px;border-top:1px solid var(--ln)}
form input,textarea{flex:1;min-width:0;padding:8px 10px;border:1px solid var(--ln);border-radius:8px;background:var(--bg)}
.sv{position:fixed;z-index:1;left:0;right:0;bottom:20px;margin:auto;width:min(400px,calc(100vw - 24px));padding:14px 16px}
.sc{display:flex;gap:3px;margin:10px 0 4px}.sc .btn{flex:1;padding:4px 0}
.sh{display:flex;justify-content:space-between}
textarea{display:block;width:100%;margin-top:4px;resize:vertical}label{display:block;margin-top:8px}
.cls{position:fixed;z-index:1;left:20px;bottom:20px;width:min(300px,calc(100vw - 100px));display:flex;flex-direction:column;gap:8px}
.cl{padding:10px 14px}
.cl>button{display:flex;width:100%;gap:8px;border:0;background:none;padding:4px 0;cursor:pointer;font-weight:600;text-align:left}
.cl>button span{margin-left:auto;color:var(--mu);font-weight:400}
.bar{height:6px;border-radius:3px;background:var(--ln);overflow:hidden;margin:4px 0}
.bar i{display:block;height:100%;background:var(--a)}
.cl ul{list-style:none;margin:8px 0 0;padding:0}
.cl li{display:flex;gap:8px;align-items:center;padding:5px 0;border-top:1px solid var(--ln)}
.cl li span{flex:1}.cl .ok span{color:var(--mu);text-decoration:line-through}
.cl li .btn{padding:2px 10px;font-size:13px}
@media (max-width:480px){
.pop,.chat,.sv{left:0!important;right:0!important;top:auto!important;bottom:0!important;width:100%;max-height:70vh;border-radius:var(--rad) var(--rad) 0 0}
.chat{height:80vh}}
@media (prefers-reduced-motion:no-preference){.pop,.chat{animation:in .18s ease-out}
@keyframes in{from{opacity:0;transform:translateY(6px)}}}`;
