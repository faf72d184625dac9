/** Builds mongodump archives (mongo-tools' archive format) for tests: no MongoDB server can run here. */
import { ARCHIVE_MAGIC } from '../../../../lib/tiers/engines/mongodb-archive.js';

// A minimal BSON writer: strings, booleans, int32 and int64 are all the archive's headers use.
type Value = string | boolean | number | bigint;
export function bson(doc: Record<string, Value>): Buffer {
  const parts: Buffer[] = [];
  for (const [k, v] of Object.entries(doc)) {
    const name = Buffer.from(`${k}\0`);
    if (typeof v === 'string') {
      const s = Buffer.from(`${v}\0`);
      const len = Buffer.alloc(4);
      len.writeInt32LE(s.length);
      parts.push(Buffer.from([0x02]), name, len, s);
    } else if (typeof v === 'boolean') parts.push(Buffer.from([0x08]), name, Buffer.from([v ? 1 : 0]));
    else if (typeof v === 'bigint') {
      const b = Buffer.alloc(8);
      b.writeBigInt64LE(v);
      parts.push(Buffer.from([0x12]), name, b);
    } else {
      const b = Buffer.alloc(4);
      b.writeInt32LE(v);
      parts.push(Buffer.from([0x10]), name, b);
    }
  }
  const body = Buffer.concat(parts);
  const head = Buffer.alloc(4);
  head.writeInt32LE(body.length + 5);
  return Buffer.concat([head, body, Buffer.from([0])]);
}
const TERM = Buffer.from([0xff, 0xff, 0xff, 0xff]);

/** An archive of `db` with the given documents per collection, interleaved in two segments each (as concurrent dumps are). */
export function archive(db: string, collections: Record<string, number>, opts: { dropEof?: string; bigDoc?: boolean } = {}): Buffer {
  const out: Buffer[] = [ARCHIVE_MAGIC, bson({ concurrent_collections: 4, version: '0.1', server_version: '7.0.0', tool_version: '100.9.4' })];
  for (const c of Object.keys(collections)) out.push(bson({ db, collection: c, metadata: '{"indexes":[]}', size: 0 }));
  out.push(TERM);
  for (const half of [0, 1]) {
    for (const [c, n] of Object.entries(collections)) {
      const docs = half === 0 ? Math.ceil(n / 2) : Math.floor(n / 2);
      if (docs === 0) continue;
      out.push(bson({ db, collection: c, EOF: false, CRC: 0n }));
      for (let i = 0; i < docs; i++) out.push(bson({ _id: `${c}-${half}-${i}`, payload: opts.bigDoc ? 'x'.repeat(200_000) : 'y' }));
      out.push(TERM);
    }
  }
  for (const c of Object.keys(collections)) if (c !== opts.dropEof) out.push(bson({ db, collection: c, EOF: true, CRC: 0n }), TERM);
  return Buffer.concat(out);
}

