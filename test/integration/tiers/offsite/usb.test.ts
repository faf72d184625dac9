/**
 * USB drives against real tools: two loop-mounted ext4 images (tmpfs, then a plain folder, when the
 * sandbox cannot loop-mount) swapped on one mount point, real rsync, real pulls making the snapshots.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, readFile, readlink, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { execa } from 'execa';
import { DRIVE_LABEL_FILE, currentLinkTarget, remoteServerDir, serverHistoryDir, snapshotDir } from '../../../../lib/model/convention.js';
import { RefusedError } from '../../../../lib/base/errors.js';
import { readHistory } from '../../../../lib/model/history.js';
import { resolveBackupServer } from '../../../../lib/tiers/pull/pull.js';
import { silentLogger } from '../../../../lib/base/log.js';
import { fetchOffsite } from '../../../../lib/tiers/offsite/fetch.js';
import { copyToDrive, listDrives, type UsbOptions } from '../../../../lib/tiers/offsite/usb.js';
import { APP_REL, APP_SERVER, BACKUP_SERVER, DUMP_NAME, DUMP_SQL, makeBackupSite, type BackupSite } from '../../../helpers/backup-site.js';
import { tierback } from '../../../helpers/cli.js';
import { tempDir } from '../../../helpers/tree.js';

let root: string;
let cleanupRoot: () => Promise<void>;
let bs: BackupSite;
let mnt: string;
/** How drives are made here: 'loop' (ext4 images), 'tmpfs', or 'folder'. */
let kind: 'loop' | 'tmpfs' | 'folder' = 'loop';
const images: Record<string, string> = {};
let mounted = false;

const day = (d: number) => new Date(Date.UTC(2026, 2, d, 5, 0, 0));

async function plug(name: string): Promise<void> {
  if (mounted) await unplug();
  if (kind === 'loop') {
    if (!images[name]) {
      images[name] = path.join(root, `${name}.img`);
      await execa('truncate', ['-s', '48M', images[name]!]);
      await execa('mkfs.ext4', ['-q', '-F', images[name]!]);
    }
    const r = await execa('mount', ['-o', 'loop', images[name]!, mnt], { reject: false });
    if (r.exitCode === 0) {
      mounted = true;
      return;
    }
    kind = 'tmpfs';
  }
  if (kind === 'tmpfs') {
    // tmpfs loses its content when unmounted: keep each "drive" in a folder and bind it instead.
    const store = path.join(root, `store-${name}`);
    await mkdir(store, { recursive: true });
    const r = await execa('mount', ['--bind', store, mnt], { reject: false });
    if (r.exitCode === 0) {
      mounted = true;
      return;
    }
    kind = 'folder';
  }
  mnt = path.join(root, `drive-${name}`);
  await mkdir(mnt, { recursive: true });
}

async function unplug(): Promise<void> {
  if (mounted) await execa('umount', [mnt]);
  mounted = false;
}

function copy(at: Date, extra: Partial<UsbOptions> = {}) {
  return copyToDrive(bs.site, resolveBackupServer(bs.site, BACKUP_SERVER), mnt, { log: silentLogger(), now: () => at, allowNotMountpoint: kind === 'folder', ...extra });
}

before(async () => {
  ({ dir: root, cleanupRoot } = await tempDir('tierback-usb-').then((t) => ({ dir: t.dir, cleanupRoot: t.cleanup })));
  bs = await makeBackupSite(root, 'offsite:\n  swap_after: 7d\n  drive_keep: 2\n');
  mnt = path.join(root, 'mnt');
  await mkdir(mnt);
});

after(async () => {
  await unplug().catch(() => undefined);
  await cleanupRoot?.();
});

describe('tierback offsite usb (drives on a real mount point, real rsync)', () => {
  let s1: string;
  let s2: string;

  it('first use labels an empty drive and copies the current snapshot as a dated snapshot', async () => {
    s1 = await bs.pullAt(day(2));
    await plug('a');
    const r = await copy(day(2), { label: 'offsite-a' });
    assert.equal(r.created, true);
    assert.equal(r.drive.label, 'offsite-a');
    assert.deepEqual(r.outcomes.map((o) => [o.server, o.status, o.snapshot]), [[APP_SERVER, 'ok', s1]]);
    assert.equal(r.outcomes[0]!.files, 22, '20 files, the dump, the job history');
    const label = JSON.parse(await readFile(path.join(mnt, DRIVE_LABEL_FILE), 'utf8')) as { id: string; label: string; created: string };
    assert.equal(label.id, r.drive.id);
    assert.equal(label.created, day(2).toISOString());
    assert.equal(await readlink(remoteServerDir(mnt, APP_SERVER)), currentLinkTarget(APP_SERVER, s1));
    assert.deepEqual(await readFile(path.join(remoteServerDir(mnt, APP_SERVER), APP_REL, 'files/f3.txt')), await readFile(path.join(bs.source, 'local', APP_REL, 'files/f3.txt')));
    assert.ok(existsSync(path.join(snapshotDir(mnt, APP_SERVER, s1), 'web/_history/backup-app-20260301')), 'job history travels to the drive');
    console.log(`# drives in this run: ${kind}`);
  });

  it('a second run with no new pull changes nothing on the drive', async () => {
    const r = await copy(day(2));
    assert.equal(r.created, false);
    assert.equal(r.outcomes[0]!.unchanged, true);
  });

  it('after a new pull, the drive gets a new snapshot whose unchanged files are hardlinks to its previous one', async () => {
    await writeFile(path.join(bs.source, 'local', APP_REL, 'files/f0.txt'), 'changed\n');
    s2 = await bs.pullAt(day(3));
    const r = await copy(day(3));
    assert.equal(r.outcomes[0]!.snapshot, s2);
    assert.equal(r.outcomes[0]!.transferredBytes, 8, 'only the changed file is copied');
    const a = await stat(path.join(snapshotDir(mnt, APP_SERVER, s1), APP_REL, 'files/f5.txt'));
    const b = await stat(path.join(snapshotDir(mnt, APP_SERVER, s2), APP_REL, 'files/f5.txt'));
    assert.equal(a.ino, b.ino);
    assert.equal(await readFile(path.join(snapshotDir(mnt, APP_SERVER, s1), APP_REL, 'files/f0.txt'), 'utf8'), 'file 0\n'.repeat(200), 'the older copy keeps the old version');
  });

  let idA: string;
  it('a drive swapped for another mid-schedule: the new drive is labelled and filled; drives says who holds what', async () => {
    await plug('b');
    const r = await copy(day(4), { label: 'offsite-b' });
    assert.equal(r.created, true);
    assert.equal(r.outcomes[0]!.snapshot, s2);
    const list = await listDrives(bs.site, resolveBackupServer(bs.site, BACKUP_SERVER), { now: day(5) });
    assert.deepEqual(list.map((d) => [d.label, d.state, d.overdue, d.servers[APP_SERVER]?.snapshot]), [
      ['offsite-a', 'away', false, s2],
      ['offsite-b', 'in-service', false, s2],
    ]);
    idA = list[0]!.id;
    assert.equal(list[0]!.lastWritten, day(3).toISOString());
    assert.equal(list[1]!.inServiceSince, day(4).toISOString());
  });

  it('the drive in service is OVERDUE after swap_after, and `offsite drives` exits 1 saying to swap it', async () => {
    const list = await listDrives(bs.site, resolveBackupServer(bs.site, BACKUP_SERVER), { now: day(12) });
    assert.equal(list.find((d) => d.label === 'offsite-b')!.overdue, true);
    assert.equal(list.find((d) => d.label === 'offsite-a')!.overdue, false);
    const cli = await tierback(['offsite', 'drives', '-i', bs.invFile, '--backup-server', BACKUP_SERVER]);
    // Real time is far past March 2026: the drive in service is overdue.
    assert.equal(cli.code, 1, cli.stderr);
    assert.match(cli.stdout, /offsite-b .*OVERDUE/);
    assert.match(cli.stdout, /swap offsite-b/);
  });

  it('swapping back: drive A is recognised by its label and gets an incremental copy linked to its own previous snapshot', async () => {
    await writeFile(path.join(bs.source, 'local', APP_REL, 'files/f1.txt'), 'changed too\n');
    const s3 = await bs.pullAt(day(12));
    await plug('a');
    const r = await copy(day(12));
    assert.equal(r.created, false);
    assert.equal(r.drive.id, idA);
    assert.equal(r.outcomes[0]!.snapshot, s3);
    assert.deepEqual(r.outcomes[0]!.pruned, [s1], 'drive_keep: 2 keeps the two newest');
    const a = await stat(path.join(snapshotDir(mnt, APP_SERVER, s2), APP_REL, 'files/f5.txt'));
    const b = await stat(path.join(snapshotDir(mnt, APP_SERVER, s3), APP_REL, 'files/f5.txt'));
    assert.equal(a.ino, b.ino);
    const list = await listDrives(bs.site, resolveBackupServer(bs.site, BACKUP_SERVER), { now: day(13) });
    assert.deepEqual(list.map((d) => [d.label, d.state, d.inServiceSince ?? '']), [
      ['offsite-a', 'in-service', day(12).toISOString()],
      ['offsite-b', 'away', day(4).toISOString()],
    ]);
  });

  it('history has one offsite record per drive write, tier offsite, 0600', async () => {
    const { runs } = await readHistory(serverHistoryDir(bs.backup), { name: 'offsite-usb-offsite-a' });
    assert.deepEqual(runs.map((x) => [x.status, x.tier, x.kind, x.extra?.['snapshot']]).length, 4);
    assert.ok(runs.every((x) => x.status === 'ok' && x.tier === 'offsite' && x.kind === 'offsite' && x.extra?.['server'] === APP_SERVER));
    const f = path.join(serverHistoryDir(bs.backup), 'backup-offsite-usb-offsite-a-20260302');
    assert.equal((await stat(f)).mode & 0o777, 0o600);
  });

  it('restores one file and one dump from the drive, with tierback and with plain rsync', async () => {
    const out = path.join(root, 'restore-usb');
    const r = await fetchOffsite(bs.site, mnt, `${APP_SERVER}/${APP_REL}/db/${DUMP_NAME}`, out, { log: silentLogger() });
    assert.equal(r.path, path.join(out, APP_REL, 'db', DUMP_NAME));
    assert.equal(gunzipSync(await readFile(r.path)).toString(), DUMP_SQL);
    const f = await fetchOffsite(bs.site, mnt, `${APP_SERVER}/${APP_REL}/files/f1.txt`, out, { log: silentLogger() });
    assert.equal(await readFile(f.path, 'utf8'), 'changed too\n');
    // docs/offsite.md#restore, without tierback:
    const manual = path.join(root, 'manual-usb');
    await mkdir(manual);
    await execa('rsync', ['-a', `${mnt}/remote/${APP_SERVER}/${APP_REL}/db/${DUMP_NAME}`, `${manual}/`]);
    const sql = await execa('gunzip', ['-c', path.join(manual, DUMP_NAME)]);
    assert.equal(`${sql.stdout}\n`, DUMP_SQL);
    await execa('cp', ['-a', `${mnt}/remote/${APP_SERVER}/${APP_REL}/files/f1.txt`, `${manual}/`]);
    assert.equal(await readFile(path.join(manual, 'f1.txt'), 'utf8'), 'changed too\n');
  });

  it('a partial copy left by an interrupted run is resumed, never made current', async () => {
    await writeFile(path.join(bs.source, 'local', APP_REL, 'files/f2.txt'), 'third change\n');
    const s4 = await bs.pullAt(day(13));
    const partial = `${snapshotDir(mnt, APP_SERVER, '2026-03-13T000000Z')}.partial`;
    await mkdir(partial, { recursive: true });
    await writeFile(path.join(partial, 'junk'), 'half');
    const r = await copy(day(13));
    assert.equal(r.outcomes[0]!.snapshot, s4);
    assert.ok(!existsSync(partial));
    assert.ok(!existsSync(path.join(snapshotDir(mnt, APP_SERVER, s4), 'junk')), '--delete removes what the partial held');
  });

  it('refuses a folder that is not a mount point (drive not plugged in) and writes nothing', async () => {
    if (kind === 'folder') return;
    await unplug();
    await assert.rejects(copyToDrive(bs.site, resolveBackupServer(bs.site, BACKUP_SERVER), mnt, { log: silentLogger(), now: () => day(14) }), (e: unknown) => e instanceof RefusedError && /not a mount point/.test(e.message));
    assert.ok(!existsSync(path.join(mnt, DRIVE_LABEL_FILE)));
  });

  it('refuses an unlabelled drive that holds other data unless --init', async () => {
    const other = path.join(root, 'otherdrive');
    await mkdir(other);
    await writeFile(path.join(other, 'holiday.jpg'), 'x');
    const cli = await tierback(['offsite', 'usb', other, '-i', bs.invFile, '--backup-server', BACKUP_SERVER, '--not-a-mountpoint']);
    assert.equal(cli.code, 6, cli.stderr);
    assert.match(cli.stderr, /not empty.*holiday\.jpg/);
    assert.match(cli.stderr, /--init/);
    const ok = await tierback(['offsite', 'usb', other, '-i', bs.invFile, '--backup-server', BACKUP_SERVER, '--not-a-mountpoint', '--init', '--label', 'spare', '--json']);
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal((JSON.parse(ok.stdout) as { drive: { label: string } }).drive.label, 'spare');
    assert.equal(await readFile(path.join(other, 'holiday.jpg'), 'utf8'), 'x', 'nothing else on the drive is touched');
    await rm(other, { recursive: true });
  });
});
