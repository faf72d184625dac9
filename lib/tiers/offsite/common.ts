/** What the offsite commands share: settings resolved from the inventory, server selection, age argv, history. */
export { errorText } from '../../base/errors.js';
import path from 'node:path';
import { offsiteLockPath, serverHistoryDir } from '../../model/layout.js';
import { offsiteHistoryName } from '../../model/names.js';
import { NotFoundError, UsageError } from '../../base/errors.js';
import { readHistory } from '../../model/history.js';
import { DEFAULT_RETENTION, suggest, type ResolvedBackupServer, type Site } from '../../model/inventory/model.js';
import type { Retention } from '../../model/inventory/schema.js';
import { parseDuration } from '../../base/duration.js';
import { acquireLock, type Lock } from '../../base/lock.js';

export interface OffsiteSettings {
  recipients: string[];
  servers: string[] | undefined;
  swapAfterMs: number;
  driveKeep: number;
  rcloneConfig: string | undefined;
  retention: Retention;
}

export function offsiteSettings(site: Site): OffsiteSettings {
  const o = site.inventory.offsite;
  return {
    recipients: o?.recipients ?? [],
    servers: o?.servers,
    swapAfterMs: parseDuration(o?.swap_after ?? '7d') ?? 7 * 86_400_000,
    driveKeep: o?.drive_keep ?? 4,
    rcloneConfig: o?.rclone_config,
    retention: o?.retention ?? site.inventory.defaults.retention.remote ?? DEFAULT_RETENTION,
  };
}

/** Servers copied offsite: those named, else offsite.servers, else every server the backup server pulls. */
export function selectOffsiteServers(site: Site, backupServer: ResolvedBackupServer, named: readonly string[] | undefined, fallback: readonly string[] | undefined): string[] {
  const pulled = backupServer.pulls.map((p) => p.server);
  const want = named && named.length > 0 ? [...named] : fallback && fallback.length > 0 ? [...fallback] : pulled;
  for (const s of want) {
    if (!pulled.includes(s)) {
      throw new NotFoundError(`${backupServer.server} does not pull ${s}, so it has no remote tier of it to copy offsite`, suggest(s, pulled, 'servers'));
    }
  }
  return want;
}

/** age's argv to encrypt to every recipient (public keys are not secret; an ssh key's comment is dropped). */
export function ageEncryptArgv(recipients: readonly string[]): string[] {
  if (recipients.length === 0) throw new UsageError('no age recipients to encrypt to', 'add offsite.recipients to the inventory (age-keygen prints a public key "age1..."), or pass --unencrypted on purpose');
  const argv = ['age', '--encrypt'];
  for (const r of recipients) argv.push('--recipient', r.startsWith('ssh-') ? r.split(/\s+/).slice(0, 2).join(' ') : r.trim());
  return argv;
}

/** age's argv to decrypt with an identity (private key) file given at restore time. */
export function ageDecryptArgv(identity: string): string[] {
  return ['age', '--decrypt', '--identity', path.resolve(identity)];
}

/** Lock of one offsite target on this backup server. */
export function lockTarget(partition: string, target: string): Promise<Lock> {
  return acquireLock(offsiteLockPath(partition, target), `offsite target ${target}`);
}

/** Successful offsite runs of a target for one server (oldest first). */
export async function previousRuns(partition: string, target: string, server: string) {
  const { runs } = await readHistory(serverHistoryDir(partition), { name: offsiteHistoryName(target) });
  return runs.filter((r) => (r.status === 'ok' || r.status === 'warning') && r.extra?.['server'] === server);
}

