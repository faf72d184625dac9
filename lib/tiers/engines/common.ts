/** Helpers every engine shares: dump names, password files, reading a gzip'd dump's end. */
import { createReadStream, readFileSync } from 'node:fs';
import { createGunzip } from 'node:zlib';
import { TierbackError } from '../../base/errors.js';
import type { ResolvedApp } from '../../model/inventory/model.js';
import { totalRows, type TableCounts } from './dumprows.js';
import type { DumpFacts } from './types.js';

/** What can name a dump file: letters, digits, "_", "." and "-", not starting with "." or "-". */
export const DUMP_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/;

/** A database name safe for a dump file name. */
export function dumpName(db: string, app: ResolvedApp, where: string): string {
  if (!DUMP_NAME.test(db)) {
    throw new TierbackError(`app "${app.name}": database name "${db}" (${where}) cannot name a dump file`, { hint: 'database names of letters, digits, "_", "." and "-" are supported' });
  }
  return db;
}

/** Reads a password file (first line), with a clear error naming the inventory key. */
export function readPasswordFile(file: string, app: ResolvedApp, key: string): string {
  try {
    return readFileSync(file, 'utf8').split('\n')[0] ?? '';
  } catch (err) {
    throw new TierbackError(`app "${app.name}": cannot read the password file ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, {
      hint: `check apps[${app.index}].options.${key}; the file holds the password on its first line and should be mode 0600`,
    });
  }
}

/** Streams a gzip file to the end; returns its last bytes (decompressed) and size. Memory stays flat. */
export async function gzipTail(file: string, keep = 512): Promise<{ tail: string; bytes: number }> {
  let tail = Buffer.alloc(0);
  let bytes = 0;
  const gunzip = createGunzip();
  createReadStream(file).pipe(gunzip);
  for await (const chunk of gunzip) {
    const b = chunk as Buffer;
    bytes += b.length;
    tail = Buffer.concat([tail, b]);
    if (tail.length > keep) tail = tail.subarray(tail.length - keep);
  }
  return { tail: tail.toString('utf8'), bytes };
}

/** A gzip'd text dump: unreadable, empty, or missing the trailer its tool writes last. */
export async function checkGzipTrailer(file: string, trailer: RegExp, missing: string): Promise<string | undefined> {
  try {
    const { tail, bytes } = await gzipTail(file);
    if (bytes === 0) return 'the dump is empty';
    if (!trailer.test(tail)) return missing;
    return undefined;
  } catch (err) {
    return `unreadable: ${(err as Error).message}`;
  }
}

/** `dumpFacts` of a gzip'd SQL dump, read as a stream: the tables and rows `count` finds in it. */
export function countedDumpFacts(count: (input: AsyncIterable<Buffer | string>) => Promise<TableCounts>): (file: string) => Promise<DumpFacts> {
  return async (file) => {
    const c = await count(createReadStream(file).pipe(createGunzip()));
    return { tables: c.tables, rows: totalRows(c.rows), tableRows: c.rows };
  };
}
