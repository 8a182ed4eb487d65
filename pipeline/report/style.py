"""The report's inline stylesheet and its one small script (filter, expand and collapse);
the page reads fine without the script: rows open with <details>."""

CSS = """
:root{--ink:#1d232b;--muted:#5d6773;--line:#dde2e8;--bg:#f6f7f9;--card:#fff;
--sup:#ffd7a8;--rec:#c7e3ff;--act:#e4e4ea;--wpn:#c9f0c9;--wpn2:#e6f5e6;
--hedge:#8a5a00;--hedgebg:#fff1cc;--deny:#a4161a;--denybg:#fde0e0}
*{box-sizing:border-box}
body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;
color:var(--ink);background:var(--bg)}
header,main,footer{max-width:1200px;margin:0 auto;padding:0 16px}
header{padding-top:16px}
h1{font-size:22px;margin:0 0 4px}
h2{font-size:17px;margin:24px 0 6px}
.src{color:var(--muted);margin:0 0 8px}
.counts{display:flex;flex-wrap:wrap;gap:6px 16px;list-style:none;padding:0;margin:0 0 8px}
.counts b{font-size:16px}
nav a{margin-right:12px}
.intro,.legend,.empty{color:var(--muted);margin:4px 0}
.sampled{margin:4px 0;padding:4px 8px;background:#fff8e1;border-left:3px solid #e0b040;
font-size:13px}
.sampled code{font-size:12px;word-break:break-all}
.tools{margin:8px 0}
.tools input{padding:4px 8px;width:260px;border:1px solid var(--line);border-radius:4px}
.tools button{padding:4px 10px;border:1px solid var(--line);border-radius:4px;background:#fff;
cursor:pointer}
.row{display:grid;grid-template-columns:minmax(150px,1.6fr) minmax(140px,1.5fr)
repeat(5,minmax(52px,68px)) 135px minmax(90px,1fr) 56px 90px;gap:8px;align-items:baseline;
padding:6px 10px 6px 24px}
.row.heading{font-weight:600;color:var(--muted);font-size:12px;border-bottom:2px solid var(--line)}
.row.other{display:flex;flex-wrap:wrap;gap:6px}
details.transfer{background:var(--card);border-bottom:1px solid var(--line)}
details.transfer>summary{cursor:pointer;list-style:none;position:relative}
details.transfer>summary::-webkit-details-marker{display:none}
details.transfer>summary::before{content:"\\25B8";position:absolute;left:9px;top:6px;
color:var(--muted)}
details.transfer[open]>summary::before{content:"\\25BE"}
details.transfer>summary:hover{background:#eef3f8}
details.transfer[open]>summary{background:#e8eff7}
.c-num{text-align:right;font-variant-numeric:tabular-nums}
.actor{font-weight:600}
.actor.unknown{color:var(--muted)}
.name{display:block;color:var(--muted);font-size:11px;font-weight:400}
.c-pair .name{display:inline;margin:0 2px 0 4px}
.systems{display:block;color:var(--muted)}
.body{padding:6px 16px 12px 24px;border-top:1px dashed var(--line)}
.count{margin:4px 0;color:var(--muted)}
.corr{margin:4px 0 8px;padding-left:18px;color:var(--muted);font-size:13px}
ol.claims{margin:0;padding-left:22px}
li.claim{margin:8px 0;padding:6px 10px;background:#fbfcfd;border:1px solid var(--line);
border-radius:6px}
li.claim.is-denied{border-color:#f1b0b0}
.head{display:flex;flex-wrap:wrap;gap:4px 10px;align-items:baseline;font-size:13px}
.says.none{color:var(--muted);font-style:italic}
.words,.qty,.trigger,.event{color:var(--muted)}
blockquote.sentence{margin:6px 0;padding:4px 10px;border-left:3px solid #9fb3c8;
font-size:15px;background:#fff}
blockquote.missing{color:var(--muted);font-style:italic}
mark{border-radius:3px;padding:0 2px;background:var(--act);color:inherit}
mark.supplier{background:var(--sup)}
mark.recipient{background:var(--rec)}
mark.weapon{background:var(--wpn2);border-bottom:2px solid #7bc47b}
mark.weapon.own{background:var(--wpn);font-weight:600}
.source{color:var(--muted);font-size:12px}
.source code{font-size:11px}
.badge{display:inline-block;border-radius:10px;padding:0 7px;font-size:11px;font-weight:600;
background:var(--act);color:var(--ink)}
.badge.hedged{background:var(--hedgebg);color:var(--hedge)}
.badge.denied{background:var(--denybg);color:var(--deny)}
dl.extras{display:grid;grid-template-columns:max-content 1fr;gap:0 10px;margin:4px 0;font-size:12px}
dl.extras dt{color:var(--muted)}
dl.extras dd{margin:0}
figure.chart{background:var(--card);border:1px solid var(--line);padding:8px;margin:8px 0}
figure.chart img{max-width:100%;height:auto;display:block}
figcaption{color:var(--muted);font-size:12px}
footer{color:var(--muted);font-size:12px;padding:16px}
.hidden{display:none}
@media (max-width:900px){.row{grid-template-columns:1fr 1fr;padding-left:24px}
.row.heading{display:none}}
"""

SCRIPT = """
(function(){
  var rows=Array.prototype.slice.call(document.querySelectorAll('details.transfer'));
  var filter=document.getElementById('filter');
  filter.addEventListener('input',function(){
    var q=filter.value.trim().toLowerCase();
    rows.forEach(function(d){
      d.classList.toggle('hidden',q!==''&&d.textContent.toLowerCase().indexOf(q)<0);
    });
  });
  function all(open){rows.forEach(function(d){if(!d.classList.contains('hidden'))d.open=open;});}
  document.getElementById('expand').addEventListener('click',function(){all(true);});
  document.getElementById('collapse').addEventListener('click',function(){all(false);});
})();
"""
