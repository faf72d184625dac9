/**
 * Per-table row counts read from a dump itself, so the numbers a job records are those of
 * the data the dump holds, not of the live database at another moment. Each counter reads its input
 * once as a stream of bytes; only the first bytes of each line (PREFIX_MAX) are ever held, so memory
 * stays flat however large the dump or any one row.
 *
 * - mysqldump: the row tuples of each `INSERT INTO `t` VALUES (...),(...);` statement (on one line,
 *   or one tuple per line as MariaDB 10.11 writes them), counted by a small parser that skips quoted
 *   strings (with backslash escapes) and nested parentheses up to the statement's `;`; INSERTs
 *   inside `DELIMITER ;;` blocks (trigger, routine and event bodies) are not data and are skipped.
 * - pg_restore --data-only -f - (PostgreSQL custom format): the lines of each
 *   `COPY schema.table (...) FROM stdin;` block up to `\.` (COPY text format escapes newlines).
 * - sqlite3 .dump: the `INSERT INTO t VALUES(...)` lines (one row each), sqlite_* tables left out.
 *
 * Keys are table names as the database lists them: `t` (MySQL; `db.t` in --all-databases dumps),
 * `schema.table` quoted like quote_ident (PostgreSQL), the plain name (SQLite).
 */
/** Bytes of each line kept for recognising statements (table names are at most 64 characters). */
export const PREFIX_MAX = 4096;

export interface TableCounts {
  /** CREATE TABLE statements seen (undefined when the format does not say). */
  tables?: number | undefined;
  /** table -> rows, in the order the dump holds them. */
  rows: Map<string, number>;
}

const NL = 10;
const BACKSLASH = 92;

/** Reads `input` and calls `onLine(prefix)` for every line with its first PREFIX_MAX bytes (utf8). */
async function scanLinePrefixes(input: AsyncIterable<Buffer | string>, onLine: (prefix: string) => void): Promise<void> {
  const buf = Buffer.allocUnsafe(PREFIX_MAX);
  let len = 0;
  let pending = false;
  for await (const c of input) {
    const chunk = typeof c === 'string' ? Buffer.from(c) : c;
    let i = 0;
    while (i < chunk.length) {
      const nl = chunk.indexOf(NL, i);
      const end = nl < 0 ? chunk.length : nl;
      if (len < PREFIX_MAX) {
        const n = Math.min(end - i, PREFIX_MAX - len);
        chunk.copy(buf, len, i, i + n);
        len += n;
      }
      pending = true;
      if (nl < 0) break;
      onLine(buf.toString('utf8', 0, len));
      len = 0;
      pending = false;
      i = nl + 1;
    }
  }
  if (pending) onLine(buf.toString('utf8', 0, len));
}

function add(m: Map<string, number>, k: string, n: number): void {
  m.set(k, (m.get(k) ?? 0) + n);
}

const PG_IDENT = String.raw`(?:"(?:[^"]|"")+"|[^\s".(]+)`;
const PG_COPY = new RegExp(String.raw`^COPY (${PG_IDENT}(?:\.${PG_IDENT})?)(?: +\(| +FROM )`);

/** Rows per table of `pg_restore --data-only -f -` output (COPY blocks). */
export async function countPgCopyRows(input: AsyncIterable<Buffer | string>): Promise<TableCounts> {
  const rows = new Map<string, number>();
  let table: string | undefined;
  let n = 0;
  await scanLinePrefixes(input, (line) => {
    if (table !== undefined) {
      if (line === '\\.' || line === '\\.\r') {
        add(rows, table, n);
        table = undefined;
      } else n++;
      return;
    }
    const m = PG_COPY.exec(line);
    if (m && / FROM stdin;\s*$/.test(line.length < PREFIX_MAX ? line : ' FROM stdin;')) {
      table = m[1]!;
      n = 0;
    }
  });
  if (table !== undefined) throw new Error(`the dump ends inside the data of table ${table} (no "\\." line): it is truncated`);
  return { rows };
}

const SQLITE_INSERT = /^INSERT INTO ("(?:[^"]|"")+"|'(?:[^']|'')+'|\[[^\]]+\]|`(?:[^`]|``)+`|[^\s("'`[]+) ?(?:\([^)]*\) ?)?VALUES ?\(/;

function unquote(name: string): string {
  const q = name[0];
  if (q === '"' || q === "'" || q === '`') return name.slice(1, -1).split(q + q).join(q);
  if (q === '[') return name.slice(1, -1);
  return name;
}

/** Tables and rows per table of `sqlite3 .dump` output. */
export async function countSqliteDumpRows(input: AsyncIterable<Buffer | string>): Promise<TableCounts> {
  const rows = new Map<string, number>();
  let tables = 0;
  await scanLinePrefixes(input, (line) => {
    if (/^CREATE TABLE (?!["`'[]?sqlite_)/.test(line)) {
      tables++;
      return;
    }
    const m = SQLITE_INSERT.exec(line);
    if (!m) return;
    const name = unquote(m[1]!);
    if (!name.startsWith('sqlite_')) add(rows, name, 1);
  });
  return { tables, rows };
}

type Mode = 'head' | 'values' | 'skip';

const MY_INSERT = /^(?:INSERT|REPLACE)(?: IGNORE)? INTO `((?:[^`]|``)+)`(?: \((?:`(?:[^`]|``)*`|[,\s])*\))? VALUES ?/;

/**
 * Tables and rows per table of mysqldump output. Each line is recognised by its first bytes; the
 * rest of an INSERT line is walked byte by byte, counting the `(` that open a row tuple.
 */
export async function countMysqlDumpRows(input: AsyncIterable<Buffer | string>): Promise<TableCounts> {
  const rows = new Map<string, number>();
  let tables = 0;
  let db: string | undefined;
  let compound = false; // inside DELIMITER ;; (trigger/routine/event bodies)
  const prefix = Buffer.allocUnsafe(PREFIX_MAX);
  let plen = 0;
  // Line mode: 'head' collects the prefix, 'values' counts tuples, 'skip' waits for the end of the line.
  let mode: Mode = 'head';
  let table = '';
  let count = 0;
  let quote = 0; // 0 or the byte of the open quote (' " `)
  let escaped = false;
  let depth = 0;

  const finishStatement = () => {
    add(rows, table, count);
    mode = 'skip';
  };
  // Walks bytes [i, end) of `b` in 'values' mode; returns the index where it stopped (end, or after the
  // statement's ';'). Newlines are whitespace: MariaDB 10.11's mysqldump writes one tuple per line.
  const walk = (b: Buffer, i: number, end: number): number => {
    for (; i < end; i++) {
      const c = b[i]!;
      if (quote) {
        if (escaped) escaped = false;
        else if (c === BACKSLASH && quote !== 96) escaped = true;
        else if (c === quote) quote = 0;
        continue;
      }
      if (c === 39 || c === 34 || c === 96) quote = c;
      else if (c === 40) {
        if (depth === 0) count++;
        depth++;
      } else if (c === 41) depth--;
      else if (c === 59 && depth === 0) {
        finishStatement();
        return i + 1;
      }
    }
    return end;
  };
  // Decides what a line is from its prefix; `rest` continues the line after the prefix.
  const decide = (): void => {
    const line = prefix.toString('utf8', 0, plen);
    if (compound) {
      if (/^DELIMITER ;\s*$/.test(line)) compound = false;
      mode = 'skip';
      return;
    }
    if (/^DELIMITER (?!;\s*$)/.test(line)) {
      compound = true;
      mode = 'skip';
      return;
    }
    let m;
    if ((m = /^USE `((?:[^`]|``)+)`;/.exec(line))) db = m[1]!.replace(/``/g, '`');
    else if (/^CREATE TABLE /.test(line)) tables++;
    else if ((m = MY_INSERT.exec(line))) {
      const name = m[1]!.replace(/``/g, '`');
      table = db === undefined ? name : `${db}.${name}`;
      count = 0;
      quote = 0;
      escaped = false;
      depth = 0;
      mode = 'values';
      // Walk the part of the prefix after "VALUES ".
      const start = Buffer.byteLength(m[0]);
      walk(prefix, start, plen);
      return;
    }
    mode = 'skip';
  };

  for await (const c of input) {
    const chunk = typeof c === 'string' ? Buffer.from(c) : c;
    let i = 0;
    while (i < chunk.length) {
      if (mode === 'head') {
        const nl = chunk.indexOf(NL, i);
        const end = nl < 0 ? chunk.length : nl;
        const n = Math.min(end - i, PREFIX_MAX - plen);
        chunk.copy(prefix, plen, i, i + n);
        plen += n;
        i += n;
        if (plen === PREFIX_MAX || nl >= 0) {
          decide();
          if ((mode as Mode) !== 'values' && nl >= 0 && i === nl) {
            i = nl + 1;
            mode = 'head';
            plen = 0;
          }
        }
      } else if (mode === 'values') {
        i = walk(chunk, i, chunk.length);
      } else {
        const nl = chunk.indexOf(NL, i);
        if (nl < 0) break;
        i = nl + 1;
        mode = 'head';
        plen = 0;
      }
    }
  }
  if (mode === 'head' && plen > 0) decide();
  if ((mode as Mode) === 'values') throw new Error(`the dump ends inside an INSERT into table ${table}: it is truncated`);
  return { tables, rows };
}

/** Sum of the rows of every table. */
export function totalRows(rows: ReadonlyMap<string, number>): number {
  let n = 0;
  for (const v of rows.values()) n += v;
  return n;
}
