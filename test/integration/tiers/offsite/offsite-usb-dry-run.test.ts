/** `tierback offsite usb --dry-run`: the label, copy, switch and removals it would make on the drive, and nothing written. Real rsync. */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { UsbPlan } from '../../../../lib/tiers/offsite/usb-plan.js';
import type { FetchPlan } from '../../../../lib/tiers/offsite/fetch.js';
import { APP_REL, APP_SERVER, BACKUP_SERVER, makeBackupSite, type BackupSite } from '../../../helpers/backup-site.js';
import { tierback } from '../../../helpers/cli.js';
import { tempDir } from '../../../helpers/tree.js';
import { treeState } from '../../../helpers/treestate.js';

let root: string;
let cleanup: () => Promise<void>;
let bs: BackupSite;

before(async () => {
  ({ dir: root, cleanup } = await tempDir('tierback-usb-dry-'));
  bs = await makeBackupSite(root, 'offsite:\n  drive_keep: 1\n');
  await bs.pullAt(new Date('2026-03-01T03:00:00Z'));
});
after(() => cleanup());

/** The argv of the rsync the real copy logged (`-v`). */
function loggedRsync(stderr: string): string[] | undefined {
  return stderr
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as { msg?: string; argv?: string[] })
    .find((o) => o.msg === 'rsync to drive')?.argv;
}

describe('tierback offsite usb --dry-run', () => {
  it('writes nothing (no label, no copy, no history, no registry); the real copy then runs the argv it printed', async () => {
    const drive = path.join(root, 'drive');
    await mkdir(drive);
    const args = ['offsite', 'usb', drive, '-i', bs.invFile, '--backup-server', BACKUP_SERVER, '--not-a-mountpoint', '--label', 'offsite-a'];
    const before = await treeState(root);
    const text = await tierback([...args, '--dry-run']);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /would label the drive: \S+tierback-drive\.json/);
    assert.match(text.stdout, /would copy \S+ into \S+\.partial/);
    const j = await tierback([...args, '--dry-run', '--json']);
    assert.equal(j.code, 0, j.stderr);
    assert.deepEqual(await treeState(root), before, 'nothing written anywhere');
    const plan = JSON.parse(j.stdout) as UsbPlan;
    assert.equal(plan.servers[0]!.action, 'copy');
    const real = await tierback([...args, '-v']);
    assert.equal(real.code, 0, real.stderr);
    assert.deepEqual(loggedRsync(real.stderr), plan.servers[0]!.argv);
    // The next snapshot: the dry run names the copy it would replace (drive_keep 1).
    await bs.pullAt(new Date('2026-03-02T03:00:00Z'));
    const again = JSON.parse((await tierback([...args, '--dry-run', '--json'])).stdout) as UsbPlan;
    assert.equal(again.labels, undefined, 'already labelled');
    assert.equal(again.servers[0]!.removes.length, 1);
    assert.match(again.servers[0]!.removes[0]!, /2026-03-01T030000Z$/);
  });
  it('offsite get --dry-run from the drive: prints the rsync and the place it would land, creates nothing; the real get lands there', async () => {
    const drive = path.join(root, 'drive');
    const to = path.join(root, 'got');
    const args = ['offsite', 'get', drive, `${APP_SERVER}/${APP_REL}/files/f1.txt`, '--to', to, '-i', bs.invFile];
    const before = await treeState(root);
    const text = await tierback([...args, '--dry-run']);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /^would get \S+\/got\/\S+\/files\/f1\.txt$/m);
    assert.match(text.stdout, /^ {2}rsync -a --numeric-ids --relative -- \S+\/\.\/\S+f1\.txt \S+\/got\/$/m);
    const j = await tierback([...args, '--dry-run', '--json']);
    assert.equal(j.code, 0, j.stderr);
    assert.deepEqual(await treeState(root), before, 'nothing written, not even --to');
    const plan = JSON.parse(j.stdout) as FetchPlan;
    assert.equal(plan.pipeline, false);
    assert.equal(plan.commands.length, 1);
    assert.equal(plan.commands[0]![0], 'rsync');
    const real = await tierback([...args, '--json']);
    assert.equal(real.code, 0, real.stderr);
    const got = JSON.parse(real.stdout) as { path: string };
    assert.equal(got.path, plan.path);
    assert.ok((await readFile(got.path)).length > 0);
  });
});
