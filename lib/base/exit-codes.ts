/**
 * The exit codes, one table: `tierback --help`'s EXIT STATUS (cli/context.ts), `tierback exit-codes`
 * and docs/exit-codes.md (`tierback exit-codes --markdown > docs/exit-codes.md`; a test keeps it in
 * step) are generated from it.
 */
import { ExitCode } from './errors.js';

export interface ExitCodeDoc {
  code: number;
  name: keyof typeof ExitCode;
  meaning: string;
  /** Markdown; empty when there is nothing to say. */
  cause: string;
}

const DOCS = {
  OK: { meaning: 'success', cause: '' },
  FAILED: { meaning: 'a backup, pull or check ran and failed', cause: 'database down, rsync error, disk full' },
  INVALID: { meaning: 'invalid arguments or invalid inventory', cause: 'unknown option, `apps[3].relpath` contains `..`' },
  NOT_FOUND: { meaning: 'the app, server or path is not in the inventory', cause: 'typo in an app name, no inventory file' },
  LOCKED: { meaning: 'another run of the same app or server holds the lock', cause: 'an overlapping cron run' },
  PARTIAL: { meaning: 'several items were processed and some, not all, failed', cause: '`job --all` with one failing app' },
  REFUSED: {
    meaning: 'refused for safety',
    cause: 'restore over live data without `--in-place`; a job whose `local/<vm>`, `_host`, `_history`, relpath folder or app folder is a symlink (or a file)',
  },
  INTERNAL: { meaning: 'a bug in tierback', cause: 'please report it with the `--debug` output' },
  INTERRUPTED: { meaning: 'stopped by SIGINT/SIGTERM', cause: 'Ctrl-C' },
} satisfies Record<keyof typeof ExitCode, { meaning: string; cause: string }>;

/** Every exit code, in ascending order. */
export const EXIT_CODES: readonly ExitCodeDoc[] = (Object.keys(ExitCode) as (keyof typeof ExitCode)[])
  .map((name) => ({ code: ExitCode[name], name, ...DOCS[name] }))
  .sort((a, b) => a.code - b.code);

/** The EXIT STATUS section every command's `--help` ends with. */
export function exitCodesText(): string {
  const width = Math.max(...EXIT_CODES.map((e) => e.name.length));
  return ['EXIT STATUS', ...EXIT_CODES.map((e) => `  ${String(e.code).padEnd(4)}${e.name.padEnd(width + 2)}${e.meaning}`), 'See docs/exit-codes.md.'].join('\n');
}

const INTRO = `
Stable: scripts and monitoring may rely on them. Every command's \`--help\` ends with this list
(\`tierback exit-codes\` prints it; \`--json\` for scripts).

`;

const AFTER = `## Runs of several items

One rule (\`lib/model/outcome.ts\`) for every command that runs several items (the apps of \`job --all\`,
the servers of \`pull\`, the drills of \`verify\`, the copies of \`offsite usb\` and \`offsite push\`,
the servers of \`ssh check\`):

- no item failed (warnings are successes; no items at all too): **0**;
- some, not all, items failed, were locked or were refused: **5**;
- every item failed, was locked or was refused: **4** if all were locked, **6** if all were
  refused, **1** otherwise (a mix of failures and locks is 1).

\`schedule --install\` that keeps a file edited by hand (docs/operate.md#hand-edits) exits **5**: the
rest is installed, that file is not.

\`verify\` without app names skips apps not on this machine and counts only the others (none left to
drill is 1); an app named on the command line that is skipped counts as failed.

\`tierback status --check\` uses the Nagios/Icinga plugin codes instead (0 OK, 1 WARNING,
2 CRITICAL, 3 UNKNOWN), as monitoring systems expect.

## Interrupted runs (SIGINT, SIGTERM, kill -9)

SIGTERM (what systemd, cron's killers and \`timeout\` send) and SIGINT (Ctrl-C) are handled the same
way, in one place (\`cli/lifecycle.ts\` hands one AbortSignal to the command):

- Commands that write (\`job\`, \`pull\`, \`verify\`, \`prune\`, \`offsite usb\`, \`offsite push\`, \`restore\`) stop their children
  (each child runs in its own process group, and the whole group gets SIGTERM, then SIGKILL 5 s
  later if it is still there), remove their working files as a failure would (a job's staging
  folder \`.<leaf>.partial-<run>\`, option files with passwords; a pull keeps its snapshot's \`.partial\`
  on purpose: the next pull resumes it, docs/remote.md), write the final history line
  \`status=failed error=interrupted\`, and exit **130**. Items not started yet (the next apps of
  \`job --all\`, the next servers of \`pull\` or \`prune\`) are not started and get no history line.
  \`prune\` stops between removals: a snapshot it had already hidden as \`.<stamp>.deleting\` is no
  longer a snapshot, and the next prune finishes deleting it; one not yet hidden stays whole.
- A second signal while that cleanup runs exits 130 at once; the next run removes what is left.
- \`restore\` writes no history: it stops its children and exits 130, leaving the new folder or
  database half restored (never the live app unless \`--in-place\`; run the restore again).
- Read-only commands, and \`move\` and \`apply\`, exit 130 at once; their children die with them
  (below). A move writes no run history (it appends to \`moves.log\` and the move record only when
  done), never looks complete on the new server before it is (it copies into a hidden
  \`.partial-<run>\` first and renames), and removes nothing at the old place until then: run it
  again and it carries on.
- \`kill -9\` of tierback cannot be handled, but its children die with it: every command is started
  through util-linux \`setpriv --pdeathsig KILL\`, so the kernel kills it when tierback dies (its own
  children, rsync's receiver or ssh, end on their closed pipes within a second or two). Nothing keeps
  writing into a folder the next run removes or resumes. The run's history has a start line and no
  final line, which reads back as failed (interrupted). Without \`setpriv\` (non-Debian systems),
  children of a \`kill -9\`'d tierback may run on until they finish.

Output is complete whatever stdout is (a terminal, a file, a pipe into \`jq\`, an \`ssh\` session):
tierback exits only once everything it wrote has been handed to the reader.

Errors are printed as one \`error:\` line (an invalid inventory lists every problem, each with its
inventory path, the app's name and a hint) and a \`hint:\` line saying what to do. Stack traces are
shown only with \`--debug\`.
`;

/** docs/exit-codes.md. */
export function exitCodesMarkdown(): string {
  const cell = (t: string) => t.replace(/\|/g, '\\|');
  const rows = EXIT_CODES.map((e) => `| ${e.code} | ${e.name} | ${cell(e.meaning)} |${e.cause ? ` ${cell(e.cause)} ` : ' '}|`);
  return `# Exit codes\n\n<!-- Generated from lib/base/exit-codes.ts by \`tierback exit-codes --markdown\`; a test keeps it in step. Do not edit by hand. -->\n${INTRO}| code | name | meaning | typical cause |\n|---|---|---|---|\n${rows.join('\n')}\n\n${AFTER}`;
}
