/**
 * The report page's one inline script (lib/features/report/page.ts): sorts a table by a column,
 * filters rows by text and state, and draws the day strips and size charts from their compact
 * codes when a table comes into view (the problems at load, a server's group when opened). No
 * network, no eval, no inline styles: it runs offline and under the web interface's CSP, which
 * allows it by its hash (REPORT_SCRIPT_HASH).
 *
 * Codes (written by page.ts): a day strip is run-length coded states, `o` ok, `w` warning or some
 * failed, `x` failed, `.` no run, each optionally followed by a count ("o28x.": 28 ok, one failed,
 * one without a run); a size chart is "MIN MAX LEVELS", levels `a`..`t` from MIN to MAX and `-` for
 * a day without a size, run-length coded the same way.
 */
import { createHash } from 'node:crypto';

export const REPORT_SCRIPT = `(function(){
var d=document,days=(d.body.getAttribute('data-days')||'').split(' ');
var ST={o:['ok','\\u2713'],w:['warn','!'],x:['fail','\\u2717'],'.':['none','']};
var RANK={FAILED:0,MISSING:1,OVERDUE:2,SHRUNK:3,STALE:4,OK:5};
function unrle(s){var o=[],re=/([^0-9])([0-9]*)/g,m;while((m=re.exec(s))){var n=m[2]?+m[2]:1;for(var i=0;i<n;i++)o.push(m[1]);}return o;}
function fmt(x){return x.slice(0,4)+'-'+x.slice(4,6)+'-'+x.slice(6,8);}
function strip(td,app){var c=unrle(td.textContent);td.textContent='';td.className='d x';
for(var i=0;i<c.length;i++){var s=ST[c[i]]||ST['.'],e=d.createElement('i');e.className=s[0];e.textContent=s[1];
e.setAttribute('data-day',days[i]||'');e.setAttribute('data-state',s[0]);e.title=app+' '+fmt(days[i]||'')+': '+(s[0]==='none'?'no run':s[0]);td.appendChild(e);}}
function chart(td){var p=td.textContent.split(' ');td.textContent='';td.className='z x';if(p.length<3)return;
var lo=+p[0],hi=+p[1],lv=unrle(p[2]),w=120,h=24,pts=[],n=Math.max(1,lv.length-1);
for(var i=0;i<lv.length;i++)if(lv[i]!=='-'){var k=lv[i].charCodeAt(0)-97;pts.push(((i/n)*(w-4)+2).toFixed(1)+','+(h-2-(k/19)*(h-4)).toFixed(1));}
var lb=lo.toFixed(1),hb=hi.toFixed(1);td.innerHTML='<svg class="spark" width="'+w+'" height="'+h+'" viewBox="0 0 '+w+' '+h+'" role="img" aria-label="size from '+lb+' to '+hb+' MB"><polyline fill="none" stroke="#3060b0" stroke-width="1.5" points="'+pts.join(' ')+'"/></svg>';}
function expand(t){if(t.x)return;t.x=1;var rs=t.tBodies[0].rows;for(var i=0;i<rs.length;i++){var r=rs[i],a=r.cells[0].textContent+' '+r.cells[1].textContent;
if(r.cells[9]&&r.cells[9].className==='d')strip(r.cells[9],a);if(r.cells[10]&&r.cells[10].className==='z')chart(r.cells[10]);}}
function dur(s){var t=0,re=/([0-9]+)([dhms])/g,m;if(!re.test(s))return -1;re.lastIndex=0;while((m=re.exec(s)))t+=(+m[1])*({d:86400,h:3600,m:60,s:1})[m[2]];return t;}
function key(r,c){var td=r.cells[c];if(!td)return '';var v=td.textContent;if(c===3)return RANK[v]!=null?RANK[v]:9;if(c===4)return dur(v);if(c===5||c===6){var n=parseFloat(v);return isNaN(n)?-1:n;}return v.toLowerCase();}
var tables=d.querySelectorAll('table.t');
function sortBy(c,dir){for(var i=0;i<tables.length;i++){var b=tables[i].tBodies[0],rs=[].slice.call(b.rows),ks=rs.map(function(r,j){return [key(r,c),j,r];});
ks.sort(function(x,y){return x[0]<y[0]?-dir:x[0]>y[0]?dir:x[1]-y[1];});for(var j=0;j<ks.length;j++)b.appendChild(ks[j][2]);
var hs=tables[i].tHead.rows[0].cells;for(var k=0;k<hs.length;k++)hs[k].removeAttribute('aria-sort');hs[c].setAttribute('aria-sort',dir>0?'ascending':'descending');}}
var cur=-1,dir=1;
d.addEventListener('click',function(e){var th=e.target.closest&&e.target.closest('table.t th');if(!th)return;var c=th.cellIndex;dir=(c===cur)?-dir:1;cur=c;sortBy(c,dir);});
var q=d.getElementById('q'),st=d.getElementById('st'),cnt=d.getElementById('n');
function filter(){var text=q.value.toLowerCase(),want=st.value,shown=0,gs=d.querySelectorAll('details');for(var k=0;k<gs.length;k++)gs[k].hidden=!!(text||want);
for(var i=0;i<tables.length;i++){var t=tables[i],rs=t.tBodies[0].rows,any=0,g=t.closest('details');
for(var j=0;j<rs.length;j++){var r=rs[j],s=r.cells[3].textContent,ok=(!want||(want==='problem'?s!=='OK':s===want))&&(!text||r.textContent.toLowerCase().indexOf(text)>=0);r.hidden=!ok;if(ok){any++;shown++;}}
if(g&&any){g.hidden=false;if(text||want){g.open=true;expand(t);}}}
cnt.textContent=(text||want)?shown+' rows match':'';}
q.addEventListener('input',filter);st.addEventListener('change',filter);
d.getElementById('f').hidden=false;
d.addEventListener('toggle',function(e){var g=e.target;if(g.tagName==='DETAILS'&&g.open){var t=g.querySelector('table.t');if(t)expand(t);}},true);
var p=d.querySelectorAll('table.t.p, details[open] table.t');for(var i=0;i<p.length;i++)expand(p[i]);
})();`;

/** The Content-Security-Policy source that allows exactly this script. */
export const REPORT_SCRIPT_HASH = `'sha256-${createHash('sha256').update(REPORT_SCRIPT).digest('base64')}'`;
