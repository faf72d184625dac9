/**
 * The web interface's audit log: one JSON line per sign-in (ok or refused), refused request and
 * download, with the time, the account, the address, the app and the path. Never a password,
 * a cookie or a session id. The file is created 0600.
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import path from 'node:path';
import { ensureDir } from '../../base/fsutil.js';

export interface AuditEvent {
  event: 'signin' | 'signin-refused' | 'signin-throttled' | 'signout' | 'refused' | 'download' | 'download-folder';
  user?: string | undefined;
  ip?: string | undefined;
  app?: string | undefined;
  point?: string | undefined;
  path?: string | undefined;
  reason?: string | undefined;
}

export class AuditLog {
  private constructor(private readonly stream: WriteStream) {}

  static async open(file: string): Promise<AuditLog> {
    await ensureDir(path.dirname(file));
    const stream = createWriteStream(file, { flags: 'a', mode: 0o600 });
    await new Promise<void>((resolve, reject) => stream.once('open', () => resolve()).once('error', reject));
    return new AuditLog(stream);
  }

  write(e: AuditEvent, now = new Date()): void {
    this.stream.write(`${JSON.stringify({ time: now.toISOString(), ...e })}\n`);
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.stream.end(resolve));
  }
}
