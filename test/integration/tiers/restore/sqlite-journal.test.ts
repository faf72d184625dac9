/** SQLite restores keep the live database's journal mode, also from dumps written before jobs recorded it. Real sqlite3. */
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { createExec } from '../../../../lib/base/exec.js';
import { silentLogger } from '../../../../lib/base/log.js';
import { dumpJournalMode, keepJournalMode, liveIsWal, runLoad } from '../../../../lib/tiers/restore/database.js';
import { sh } from '../../../helpers/jobsite.js';
import { useTempDir } from '../../../helpers/tree.js';

const exec = createExec(silentLogger());

describe('SQLite restore and the journal mode', () => {
  const tmp = useTempDir('tierback-sqlite-journal-');
  let live: string;
  let oldDump: string;
  before(async () => {
    live = path.join(tmp.dir, 'live.sqlite3');
    await sh(['sqlite3', live, "PRAGMA journal_mode=WAL; CREATE TABLE t(x); INSERT INTO t VALUES (1), (2);"]);
    // A dump as jobs wrote it before they recorded the journal mode: plain `.dump`, gzip'd.
    oldDump = path.join(tmp.dir, 'live-2026-01-01T000000Z.sqlite.sql.gz');
    await sh(['sh', '-c', 'sqlite3 -readonly "$1" .dump | gzip > "$2"', 'sh', live, oldDump]);
  });

  it('reads WAL mode from the live file header, and an old dump has no recorded mode', async () => {
    assert.equal(await liveIsWal(live), true);
    assert.equal(await liveIsWal(path.join(tmp.dir, 'missing.sqlite3')), false);
    assert.equal(await dumpJournalMode(oldDump), undefined);
  });

  it('sets WAL on a file restored from an old dump when the live database is WAL', async () => {
    const target = path.join(tmp.dir, 'restored.sqlite3');
    await runLoad(exec, 'sqlite', oldDump, target, {});
    assert.equal((await sh(['sqlite3', target, 'PRAGMA journal_mode'])).trim(), 'delete', 'a plain load comes back in delete mode');
    const cmds = await keepJournalMode(exec, oldDump, target, true);
    assert.deepEqual(cmds, [`sqlite3 ${target} 'PRAGMA journal_mode=WAL'`]);
    assert.equal((await sh(['sqlite3', target, 'PRAGMA journal_mode'])).trim(), 'wal');
    assert.equal((await sh(['sqlite3', target, 'SELECT count(*) FROM t'])).trim(), '2');
  });

  it('leaves a rollback-journal database as it is', async () => {
    const target = path.join(tmp.dir, 'restored-delete.sqlite3');
    await runLoad(exec, 'sqlite', oldDump, target, {});
    assert.deepEqual(await keepJournalMode(exec, oldDump, target, false), []);
    assert.equal((await sh(['sqlite3', target, 'PRAGMA journal_mode'])).trim(), 'delete');
  });
});
