/** What a failed pull's rsync/ssh run most likely means, for history and the operator. */
import { describeRsyncExit } from './rsync.js';

/** Adds the likely cause to an rsync/ssh failure, from rsync's exit code and stderr. */
export function explainFailure(code: number | undefined, stderr: string, server: string): string {
  const tail = stderr.replace(/\r/g, '').trim().split('\n').filter((l) => l.trim() !== '').slice(-3).join(' | ');
  let hint = '';
  if (/REMOTE HOST IDENTIFICATION HAS CHANGED|Host key verification failed|No .* host key is known/i.test(stderr)) {
    hint = `the host key of ${server} is not the pinned one (servers[].ssh.host_key / known_hosts): if the server was really reinstalled, verify and update the pin`;
  } else if (/Permission denied/i.test(stderr) && code === 255) {
    hint = `the backup server's key is not accepted by ${server}: install the line \`tierback ssh authorize\` prints`;
  } else if (/change_dir .* failed|No such file or directory/.test(stderr)) {
    hint = `the source folder is missing; if ${server} restricts the key with rrsync, set servers[].ssh.rrsync: true`;
  } else if (/Connection refused|Connection timed out|No route to host|Could not resolve/i.test(stderr)) {
    hint = `${server} is not reachable over SSH`;
  }
  const what = code === undefined ? 'rsync was killed' : `rsync exited with code ${code} (${describeRsyncExit(code)})`;
  return `${what}${tail ? `: ${tail}` : ''}${hint ? ` — ${hint}` : ''}`;
}
