/** The report page's compact codes and row markup (lib/features/report/page.ts). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { dayCode, rle, rowHtml, sizeCode } from '../../../../lib/features/report/page.js';
import type { ReportDay } from '../../../../lib/features/report/index.js';
import type { StatusRow } from '../../../../lib/features/status/index.js';

const day = (state: ReportDay['state'], mb?: number): ReportDay => ({ day: '20261101', state, runs: state === 'none' ? 0 : 1, mb });

describe('report page codes', () => {
  it('run-length codes runs of three or more', () => {
    assert.equal(rle('oooooox.'), 'o6x.');
    assert.equal(rle('ooxx'), 'ooxx');
    assert.equal(rle(''), '');
  });
  it('codes a day strip and a size chart', () => {
    const days = [...Array(28).fill(day('ok', 100)), day('fail'), day('none')] as ReportDay[];
    assert.equal(dayCode(days), 'o28x.');
    assert.equal(sizeCode(days), '100.0 100.0 a28--');
    assert.equal(sizeCode([day('ok', 10), day('ok', 20), day('warn')]), '10.0 20.0 at-');
    assert.equal(sizeCode([day('none')]), '');
  });
  it('escapes every value of a row and names its state by class', () => {
    const s = { app: 'a<b', tier: 'remote', server: 's', vm: 'v', relpath: 'r', backupServer: 'bk"1', state: 'FAILED', reason: 'x & <y>', running: false, paused: false, staleAfterS: 1, shrinkThreshold: 20 } as StatusRow;
    const html = rowHtml({ status: s, days: [day('fail')] });
    assert.equal(html, '<tr><td>a&lt;b<td>remote<td>bk&quot;1<td class=FAILED>FAILED<td><td><td><td><td>x &amp; &lt;y&gt;<td class=d>x<td class=z>\n');
  });
});
