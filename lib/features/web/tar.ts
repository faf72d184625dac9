/**
 * A folder as a streamed `.tar.gz`: walked one entry at a time (opendir), each file read as it is
 * sent, gzip by Node's zlib. Nothing but the current path stack is held. Symlinks are stored as
 * links, never followed; files are opened with O_NOFOLLOW. Long names and large files get POSIX
 * pax headers. A file that changes size while read is padded or cut to the size in its header,
 * so the archive stays well-formed.
 */
import { opendir, lstat, readlink } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { createGzip } from 'node:zlib';
import { openNoFollow } from './fspath.js';

const BLOCK = 512;

function octal(n: number, width: number): string {
  return n.toString(8).padStart(width - 1, '0') + '\0';
}

function header(name: string, st: { mode: number; uid: number; gid: number; size: number; mtime: number }, type: string, linkname = ''): Buffer {
  const b = Buffer.alloc(BLOCK);
  b.write(name, 0, 100, 'utf8');
  b.write(octal(st.mode & 0o7777, 8), 100, 'ascii');
  b.write(octal(Math.min(st.uid, 0o7777777), 8), 108, 'ascii');
  b.write(octal(Math.min(st.gid, 0o7777777), 8), 116, 'ascii');
  b.write(octal(Math.min(st.size, 0o77777777777), 12), 124, 'ascii');
  b.write(octal(Math.max(0, Math.floor(st.mtime)), 12), 136, 'ascii');
  b.write('        ', 148, 'ascii');
  b.write(type, 156, 'ascii');
  b.write(linkname, 157, 100, 'utf8');
  b.write('ustar\0', 257, 'ascii');
  b.write('00', 263, 'ascii');
  let sum = 0;
  for (const byte of b) sum += byte;
  b.write(octal(sum, 7) + ' ', 148, 'ascii');
  return b;
}

function pad(size: number): Buffer {
  const r = size % BLOCK;
  return Buffer.alloc(r ? BLOCK - r : 0);
}

function paxRecord(key: string, value: string): string {
  const body = ` ${key}=${value}\n`;
  let len = Buffer.byteLength(body) + 1;
  while (String(len).length + Buffer.byteLength(body) !== len) len = String(len).length + Buffer.byteLength(body);
  return `${len}${body}`;
}

/** The headers of one entry: a pax header first when the name, link or size does not fit ustar. */
function headers(name: string, st: Stats, type: string, linkname = ''): Buffer[] {
  const records: string[] = [];
  if (Buffer.byteLength(name) > 99) records.push(paxRecord('path', name));
  if (Buffer.byteLength(linkname) > 99) records.push(paxRecord('linkpath', linkname));
  const size = type === '0' ? st.size : 0;
  if (size > 0o77777777777) records.push(paxRecord('size', String(size)));
  const meta = { mode: st.mode, uid: st.uid, gid: st.gid, size, mtime: st.mtimeMs / 1000 };
  const out: Buffer[] = [];
  if (records.length) {
    const body = Buffer.from(records.join(''));
    out.push(header('PaxHeader', { ...meta, size: body.length }, 'x'), body, pad(body.length));
  }
  out.push(header(name, meta, type, linkname));
  return out;
}

async function* fileBody(file: string, size: number): AsyncGenerator<Buffer> {
  const fh = await openNoFollow(file);
  try {
    let sent = 0;
    const buf = Buffer.alloc(256 * 1024);
    while (sent < size) {
      const { bytesRead } = await fh.read(buf, 0, Math.min(buf.length, size - sent), null);
      if (bytesRead === 0) break;
      sent += bytesRead;
      yield Buffer.from(buf.subarray(0, bytesRead));
    }
    // Shrunk while read: keep the archive well-formed.
    if (sent < size) yield Buffer.alloc(size - sent);
  } finally {
    await fh.close();
  }
}

/** The tar entries of folder `dir` (real path), named under `prefix`. */
async function* entries(dir: string, prefix: string, signal?: AbortSignal): AsyncGenerator<Buffer> {
  const st = await lstat(dir);
  yield* headers(`${prefix}/`, st, '5');
  const d = await opendir(dir);
  for await (const e of d) {
    if (signal?.aborted) return;
    const full = path.join(dir, e.name);
    const name = `${prefix}/${e.name}`;
    let s: Stats;
    try {
      s = await lstat(full);
    } catch {
      continue; // gone since listed
    }
    if (s.isDirectory()) yield* entries(full, name, signal);
    else if (s.isSymbolicLink()) yield* headers(name, s, '2', await readlink(full));
    else if (s.isFile()) {
      yield* headers(name, s, '0');
      yield* fileBody(full, s.size);
      yield pad(s.size);
    }
    // Sockets, fifos and devices are left out.
  }
}

async function* archive(dir: string, prefix: string, signal?: AbortSignal): AsyncGenerator<Buffer> {
  yield* entries(dir, prefix, signal);
  yield Buffer.alloc(BLOCK * 2);
}

/** A readable stream of the folder as .tar.gz; its top folder is named `prefix`. */
export function tarGz(dir: string, prefix: string, signal?: AbortSignal): Readable {
  const src = Readable.from(archive(dir, prefix, signal), { objectMode: false, highWaterMark: 1 });
  const gz = createGzip({ level: 6 });
  src.on('error', (err) => gz.destroy(err));
  return src.pipe(gz);
}
