/**
 * Reads a mongodump archive (`mongodump --archive`, the format of mongo-tools' archive package:
 * docs/jobs/mongodb.md) as a stream and tells whether it is complete, and how many documents each
 * collection holds. The archive is: the magic number 0x8199e26d (little-endian), a header document,
 * one metadata document per collection, a terminator (0xffffffff), then segments, each a namespace
 * header document ({db, collection, EOF: false}) followed by documents and a terminator, and one
 * EOF header ({db, collection, EOF: true}) followed by a terminator per collection when its dump ended.
 * Documents are skipped by their length (only headers and metadata are held), so memory stays flat.
 */

/** 0x8199e26d as the archive stores it (little-endian). */
export const ARCHIVE_MAGIC = Buffer.from([0x6d, 0xe2, 0x99, 0x81]);
const TERMINATOR = -1;
/** The largest header or metadata document held (BSON documents are at most 16 MiB). */
const MAX_HELD = 16 * 1024 * 1024 + 16 * 1024;

export interface ArchiveScan {
  /** `db.collection` of every metadata document, in archive order. */
  collections: string[];
  /** Documents per `db.collection` (every namespace that had a segment or an EOF header). */
  documents: Map<string, number>;
  /** Namespaces whose EOF header was read (their dump ended). */
  ended: Set<string>;
}

/** The string and boolean fields of a small BSON document (other fields skipped; stops at a type it cannot size). */
export function bsonFields(doc: Buffer): Record<string, string | boolean> {
  const out: Record<string, string | boolean> = {};
  let i = 4;
  while (i < doc.length - 1) {
    const type = doc[i++]!;
    const nameEnd = doc.indexOf(0, i);
    if (nameEnd < 0) break;
    const name = doc.toString('utf8', i, nameEnd);
    i = nameEnd + 1;
    if (type === 0x02) {
      const len = doc.readInt32LE(i);
      out[name] = doc.toString('utf8', i + 4, i + 4 + len - 1);
      i += 4 + len;
    } else if (type === 0x08) out[name] = doc[i++] === 1;
    else if (type === 0x10) i += 4;
    else if (type === 0x01 || type === 0x12 || type === 0x09 || type === 0x11) i += 8;
    else if (type === 0x03 || type === 0x04) i += doc.readInt32LE(i);
    else if (type === 0x05) i += 5 + doc.readInt32LE(i);
    else if (type === 0x07) i += 12;
    else if (type === 0x0a) continue;
    else break;
  }
  return out;
}

function namespaceOf(f: Record<string, string | boolean>): string {
  return `${String(f.db ?? '')}.${String(f.collection ?? '')}`;
}

type State = 'magic' | 'header' | 'prelude' | 'segment-header' | 'segment-data' | 'eof-terminator';

/** Scans an (uncompressed) archive stream; throws when it is not one or ends early (truncated). */
export async function scanMongoArchive(input: AsyncIterable<Buffer | string>): Promise<ArchiveScan> {
  const scan: ArchiveScan = { collections: [], documents: new Map(), ended: new Set() };
  let state = 'magic' as State;
  let buf: Buffer = Buffer.alloc(0);
  let skip = 0;
  let current = '';
  let total = 0;
  const fail = (why: string) => new Error(`not a complete mongodump archive: ${why} (at byte ${total - buf.length})`);

  const step = (): boolean => {
    if (state === 'magic') {
      if (buf.length < 4) return false;
      if (!buf.subarray(0, 4).equals(ARCHIVE_MAGIC)) throw fail('no archive magic number 0x8199e26d');
      buf = buf.subarray(4);
      state = 'header';
      return true;
    }
    if (buf.length < 4) return false;
    const len = buf.readInt32LE(0);
    if (len === TERMINATOR) {
      if (state === 'prelude' || state === 'segment-data' || state === 'eof-terminator') {
        buf = buf.subarray(4);
        state = 'segment-header';
        return true;
      }
      throw fail(`a terminator where a ${state === 'header' ? 'header' : 'namespace header'} document belongs`);
    }
    if (len < 5 || len > MAX_HELD) throw fail(`a document of impossible length ${len}`);
    if (state === 'eof-terminator') throw fail('no terminator after an EOF header');
    if (state === 'segment-data') {
      // A document of the collection: counted and skipped, never held.
      scan.documents.set(current, (scan.documents.get(current) ?? 0) + 1);
      skip = len;
      const n = Math.min(skip, buf.length);
      buf = buf.subarray(n);
      skip -= n;
      return true;
    }
    if (buf.length < len) return false;
    const doc = buf.subarray(0, len);
    buf = buf.subarray(len);
    if (doc[len - 1] !== 0) throw fail('a document that does not end with a zero byte');
    const f = bsonFields(doc);
    if (state === 'header') {
      if (typeof f.version !== 'string') throw fail('the header document has no archive version');
      state = 'prelude';
    } else if (state === 'prelude') {
      scan.collections.push(namespaceOf(f));
    } else {
      const ns = namespaceOf(f);
      if (scan.ended.has(ns)) throw fail(`${ns} continues after its EOF header`);
      if (!scan.documents.has(ns)) scan.documents.set(ns, 0);
      if (f.EOF === true) {
        scan.ended.add(ns);
        state = 'eof-terminator';
      } else {
        current = ns;
        state = 'segment-data';
      }
    }
    return true;
  };

  for await (const c of input) {
    let chunk = typeof c === 'string' ? Buffer.from(c) : c;
    total += chunk.length;
    if (skip > 0) {
      const n = Math.min(skip, chunk.length);
      chunk = chunk.subarray(n);
      skip -= n;
    }
    buf = buf.length ? Buffer.concat([buf, chunk]) : chunk;
    while (skip === 0 && step());
    if (skip > 0 && buf.length) throw fail('internal: bytes left while skipping');
  }
  if (state === 'magic' && buf.length === 0 && total === 0) throw fail('the archive is empty');
  if (skip > 0) throw fail(`it ends inside a document of ${current}`);
  if (buf.length > 0) throw fail(`it ends inside a ${state === 'segment-data' ? `document of ${current}` : 'header or terminator'}`);
  if (state !== 'segment-header') throw fail(state === 'segment-data' ? `it ends inside the data of ${current} (no terminator)` : `it ends in the ${state}`);
  const open = [...scan.documents.keys()].filter((ns) => !scan.ended.has(ns));
  if (open.length) throw fail(`no EOF header for ${open.join(', ')}: mongodump stopped early`);
  return scan;
}
