/**
 * Benchmark of the web interface (`tierback serve` as its own process, on the test site of
 * test/helpers/web.ts with big folders added to the docs app's local point):
 *  - a folder of 10,000 entries listed (API, one page of 10,000): target under 300 ms;
 *  - a 1 GB folder downloaded as .tar.gz, the server's RSS sampled every 100 ms: flat;
 *  - 20 concurrent .tar.gz downloads of a 50 MB folder.
 * `--small` for a quick check (1,000 entries, 20 MB, 20 x 2 MB). Run alone on a quiet machine.
 *   npx tsc -p . && node build/bench/web.js [--small]
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { setUser } from '../lib/features/web/accounts.js';
import { backUp, buildDemoSite } from '../test/helpers/demosite.js';
import { freePort, waitFor } from '../test/helpers/net.js';
import { tempDir } from '../test/helpers/tree.js';

const small = process.argv.includes('--small');
const ENTRIES = small ? 1_000 : 10_000;
const BIG_MB = small ? 20 : 1024;
const EACH_MB = small ? 2 : 50;
const CLI = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../cli/tierback.js');

async function fill(dir: string, mb: number, fileMb = 16): Promise<void> {
  await mkdir(dir, { recursive: true });
  const chunk = randomBytes(1024 * 1024);
  for (let i = 0; i * fileMb < mb; i++) {
    const n = Math.min(fileMb, mb - i * fileMb);
    await writeFile(path.join(dir, `part-${i}.bin`), Buffer.concat(Array.from({ length: n }, () => chunk)));
  }
}

async function rssMb(pid: number): Promise<number> {
  const s = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(s)![1]) / 1024;
}

const tmp = await tempDir('tierback-webbench-');
try {
  const demo = await buildDemoSite(path.join(tmp.dir, 'site'));
  const at = new Date(Date.now() - 3_600_000);
  await backUp(demo.site, at, new Date(at.getTime() + 60_000));
  const docs = demo.site.apps.find((a) => a.name === 'docs')!;
  const local = path.join(docs.partition, 'local', docs.vm, docs.relpath, 'files');
  await mkdir(path.join(local, 'many'), { recursive: true });
  for (let i = 0; i < ENTRIES; i++) await writeFile(path.join(local, 'many', `f${String(i).padStart(6, '0')}.txt`), `${i}\n`);
  await fill(path.join(local, 'big'), BIG_MB);
  await fill(path.join(local, 'each'), EACH_MB, 1);
  const users = path.join(tmp.dir, 'users.json');
  await setUser(users, 'bench', 'bench-password', '*');
  const port = await freePort();
  const proc = execa(process.execPath, [CLI, 'serve', '--inventory', demo.site.file, '--users', users, '--port', String(port)], { reject: false });
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitFor(async () => (await fetch(`${url}/login`)).ok, 'tierback serve');
    // Basic auth checks the password (scrypt) on each request: sign in once for a cookie, as a browser does.
    const login = await fetch(`${url}/login`, { method: 'POST', body: new URLSearchParams({ user: 'bench', password: 'bench-password' }), redirect: 'manual' });
    const cookie = { cookie: login.headers.get('set-cookie')!.split(';')[0]! };
    const times: number[] = [];
    for (let i = 0; i < 7; i++) {
      const t0 = performance.now();
      const r = await fetch(`${url}/api/apps/docs/list?point=local&path=files/many&limit=10000`, { headers: cookie });
      const body = (await r.json()) as { entries: unknown[] };
      times.push(performance.now() - t0);
      if (body.entries.length !== ENTRIES) throw new Error(`listed ${body.entries.length} of ${ENTRIES}`);
    }
    times.sort((a, b) => a - b);
    console.log(`listing: ${ENTRIES} entries in ${times[3]!.toFixed(0)} ms (median of 7; target < 300 ms for 10,000)`);

    const download = async (p: string): Promise<number> => {
      const r = await fetch(`${url}/app/docs/tar?point=local&path=${p}`, { headers: cookie });
      let n = 0;
      for await (const c of r.body!) n += (c as Uint8Array).length;
      return n;
    };
    const samples: number[] = [];
    const timer = setInterval(() => void rssMb(proc.pid!).then((m) => samples.push(m)), 100);
    const base = await rssMb(proc.pid!);
    let t0 = performance.now();
    const bytes = await download('files/big');
    const secs = (performance.now() - t0) / 1000;
    clearInterval(timer);
    console.log(`download: ${BIG_MB} MB folder as .tar.gz (${(bytes / 1e6).toFixed(0)} MB sent) in ${secs.toFixed(1)} s; server RSS ${base.toFixed(0)} MB before, max ${Math.max(...samples).toFixed(0)} MB, min ${Math.min(...samples).toFixed(0)} MB over ${samples.length} samples`);

    t0 = performance.now();
    const all = await Promise.all(Array.from({ length: 20 }, () => download('files/each')));
    console.log(`concurrent: 20 downloads of a ${EACH_MB} MB folder in ${((performance.now() - t0) / 1000).toFixed(1)} s (${(all.reduce((a, b) => a + b, 0) / 1e6).toFixed(0)} MB sent); server RSS after ${(await rssMb(proc.pid!)).toFixed(0)} MB`);
  } finally {
    proc.kill('SIGTERM');
    await proc;
  }
} finally {
  await tmp.cleanup();
}
