/** Processes seen through /proc: what tests use to check that children were started, stopped or left behind. */
import { spawn } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';

export interface Proc {
  pid: number;
  argv: string[];
  /** The command line, arguments separated by spaces. */
  cmd: string;
}

/** True while `pid` runs (a zombie counts as gone). */
export async function isAlive(pid: number): Promise<boolean> {
  try {
    return !/^\d+ \(.*\) Z /.test(await readFile(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

/** Live processes other than this one whose command line mentions `text`. */
export async function processesWith(text: string): Promise<Proc[]> {
  const out: Proc[] = [];
  for (const name of await readdir('/proc')) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
    const raw = await readFile(`/proc/${name}/cmdline`, 'utf8').catch(() => '');
    const cmd = raw.replace(/\0/g, ' ');
    if (cmd.includes(text) && (await isAlive(Number(name)))) out.push({ pid: Number(name), argv: raw.replace(/\0$/, '').split('\0'), cmd });
  }
  return out;
}

/** Pids of every descendant of `pid`, deepest first. */
export async function descendants(pid: number): Promise<number[]> {
  const parent = new Map<number, number>();
  for (const name of await readdir('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = await readFile(`/proc/${name}/stat`, 'utf8');
      parent.set(Number(name), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      // gone
    }
  }
  const out: number[] = [];
  const walk = (p: number) => {
    for (const [child, pp] of parent) if (pp === p) {
      walk(child);
      out.push(child);
    }
  };
  walk(pid);
  return out;
}

/** SIGKILLs each pid that still runs. */
export function killAll(pids: number[]): void {
  for (const p of pids) {
    try {
      process.kill(p, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

/** The pid of a process that has just exited (what a stale lock or run names). */
export async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '0']);
  await new Promise((r) => child.on('exit', r));
  return child.pid!;
}
