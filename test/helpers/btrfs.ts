/**
 * A real btrfs filesystem for a test: a sparse loop file, mkfs.btrfs, mounted on a temp folder,
 * unmounted and removed at the end (also when the test fails). Where the kernel or the tools lack
 * btrfs (or we may not mount), `btrfsUnavailable()` says why, for `it(..., { skip })`.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';

export interface BtrfsMount {
  /** The mount point (a fresh btrfs filesystem). */
  dir: string;
  cleanup: () => Promise<void>;
}

function has(cmd: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Why btrfs tests cannot run here, or undefined when they can. */
export function btrfsUnavailable(): string | undefined {
  if (process.platform !== 'linux') return 'btrfs tests need Linux';
  if (process.getuid?.() !== 0) return 'btrfs tests need root (to mount a loop file)';
  if (!has('mkfs.btrfs') || !has('btrfs')) return 'btrfs tests need btrfs-progs (apt-get install btrfs-progs; scripts/install-deps.sh)';
  let fs = '';
  try {
    fs = readFileSync('/proc/filesystems', 'utf8');
  } catch {
    /* empty */
  }
  if (!/\tbtrfs$/m.test(fs)) {
    try {
      execFileSync('modprobe', ['btrfs'], { stdio: 'ignore' });
    } catch {
      return 'btrfs tests need a kernel with btrfs (not in /proc/filesystems, modprobe btrfs failed)';
    }
  }
  return undefined;
}

/** Makes and mounts a btrfs filesystem of `sizeMb` (sparse) in a temp folder. */
export async function mountBtrfs(prefix = 'tierback-btrfs-', sizeMb = 512): Promise<BtrfsMount> {
  const base = await mkdtemp(path.join(os.tmpdir(), prefix));
  const img = path.join(base, 'fs.img');
  const dir = path.join(base, 'mnt');
  let mounted = false;
  const cleanup = async () => {
    if (mounted) {
      // Lazy unmount if something still holds it (a killed rsync): the loop device goes with it.
      await execa('umount', [dir], { reject: false }).then((r) => (r.exitCode === 0 ? r : execa('umount', ['-l', dir], { reject: false })));
      mounted = false;
    }
    await rm(base, { recursive: true, force: true });
  };
  try {
    await mkdir(dir);
    await execa('truncate', ['-s', `${sizeMb}M`, img]);
    await execa('mkfs.btrfs', ['-q', img]);
    await execa('mount', ['-o', 'loop', img, dir]);
    mounted = true;
    return { dir, cleanup };
  } catch (err) {
    await cleanup();
    throw err;
  }
}
