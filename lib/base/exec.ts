/**
 * The one place that runs subprocesses. Commands are data (argv arrays, never shell
 * strings); secrets travel only in the child's environment (`secretEnv`) or in 0600 option
 * files, and are never logged. Dry-run returns the plan without running anything.
 */
import { accessSync, constants, createWriteStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { PassThrough, type Readable, type Transform, type Writable } from 'node:stream';
import { execa, type Options, type ResultPromise } from 'execa';
import { CommandError } from './errors.js';
import type { Logger } from './log.js';
import { FILE_MODE } from './fsutil.js';

export interface CommandSpec {
  argv: readonly string[];
  cwd?: string;
  /** Extra environment (not secret; logged). */
  env?: Record<string, string>;
  /** Secret environment (e.g. PGPASSWORD): passed to the child only, never logged. */
  secretEnv?: Record<string, string>;
  /** Exit codes counted as success (default [0]). */
  okCodes?: readonly number[];
  /** Exit codes counted as success with a warning (e.g. rsync's 24). */
  warnCodes?: readonly number[];
  /** Kill the child after this many ms. */
  timeoutMs?: number;
  input?: string;
  /** spawn() only: do not buffer stdout/stderr in memory (the caller reads the streams as they come). */
  stream?: boolean;
}

export interface CommandResult {
  exitCode: number;
  stdout: string;
  stderr: string;
  warning: boolean;
  durationMs: number;
}

export interface Exec {
  readonly dryRun: boolean;
  /** Runs a command to completion, capturing output. Throws CommandError on failure. */
  run(spec: CommandSpec, signal?: AbortSignal): Promise<CommandResult>;
  /**
   * Streams a command's stdout through optional transforms (e.g. gzip) into `file` (created 0600).
   * Memory stays flat whatever the size of the output.
   */
  runToFile(spec: CommandSpec, file: string, transforms?: Transform[], signal?: AbortSignal): Promise<CommandResult>;
  /** Starts a command and returns execa's process handle, for callers that parse output as it comes. */
  spawn(spec: CommandSpec, signal?: AbortSignal): ResultPromise;
  /**
   * Starts a command whose standard input the caller writes while it runs (e.g. names for
   * `rsync --files-from=-` as they are found) and ends; `done` settles as run() does. A child that
   * exits early makes the writes fail quietly: its exit code says why.
   */
  runFed(spec: CommandSpec, signal?: AbortSignal): { stdin: Writable; done: Promise<CommandResult> };
  /**
   * Runs `from | to` without a shell (e.g. `gunzip -c dump.gz | mysql db`): from's stdout streams into
   * to's stdin, memory stays flat. Throws CommandError naming whichever side failed.
   */
  pipe(from: CommandSpec, to: CommandSpec, signal?: AbortSignal): Promise<CommandResult>;
  /** Every command this Exec ran or (dry-run) would have run, as argv arrays. */
  readonly history: readonly (readonly string[])[];
}

// ---------------------------------------------------------------- children die with their parent

/** util-linux setpriv (Debian: /usr/bin/setpriv), when installed: sets the child's parent-death signal, then execs it. */
let setprivPath: string | null | undefined;
function findSetpriv(): string | null {
  if (setprivPath !== undefined) return setprivPath;
  setprivPath = null;
  for (const p of ['/usr/bin/setpriv', '/bin/setpriv']) {
    try {
      accessSync(p, constants.X_OK);
      setprivPath = p;
      break;
    } catch {
      /* not here */
    }
  }
  return setprivPath;
}

/**
 * The argv actually spawned: `setpriv --pdeathsig KILL -- argv...`, so the kernel kills the child
 * when tierback dies, even by `kill -9` (its own children, e.g. rsync's receiver or ssh, then end on
 * their closed pipes). Without setpriv, the argv as is.
 */
export function spawnArgv(argv: readonly string[]): string[] {
  const setpriv = findSetpriv();
  return setpriv && argv.length > 0 ? [setpriv, '--pdeathsig', 'KILL', '--', ...argv] : [...argv];
}

/** setpriv's own "cannot exec" failure (exit 127 + its message), shown as the command not found. */
function setprivExecFailure(exitCode: number | undefined, stderr: unknown): string | undefined {
  if (exitCode !== 127 && exitCode !== 126) return undefined;
  const m = /setpriv: failed to execute \S+: (.*)/.exec(String(stderr ?? ''));
  return m ? m[1]! : undefined;
}

/**
 * Why a command could not be started at all (not installed, not executable), else undefined:
 * execa's spawn error, or setpriv's report that it could not exec the command.
 */
export function cannotRun(r: { failed: boolean; exitCode?: number | undefined; isTerminated: boolean; isCanceled?: boolean; cause?: unknown; stderr?: unknown }): string | undefined {
  if (r.failed && r.exitCode === undefined && !r.isTerminated && !r.isCanceled && r.cause) return (r.cause as Error).message;
  return setprivExecFailure(r.exitCode, r.stderr);
}

/**
 * Starts a child in its own process group (leader: the command) with the parent-death signal set.
 * When `signal` aborts (SIGINT/SIGTERM of tierback), the whole group gets SIGTERM, so grandchildren
 * (rsync's ssh and receiver, a shell's commands) stop too; execa also cancels the child itself and
 * SIGKILLs it if it is still there 5 s later.
 */
function launch(argv: readonly string[], options: Options, signal: AbortSignal | undefined): ResultPromise {
  const [file, ...args] = spawnArgv(argv);
  const child = execa(file!, args, { ...options, detached: true, ...(signal ? { cancelSignal: signal } : {}) } as Options) as unknown as ResultPromise;
  if (signal && child.pid !== undefined) {
    const pid = child.pid;
    const killGroup = () => {
      try {
        process.kill(-pid, 'SIGTERM');
      } catch {
        /* already gone */
      }
    };
    if (signal.aborted) killGroup();
    else {
      signal.addEventListener('abort', killGroup, { once: true });
      const done = () => signal.removeEventListener('abort', killGroup);
      child.then(done, done);
    }
  }
  return child;
}

export function describeCommand(argv: readonly string[]): string {
  return argv.map((a) => (/^[A-Za-z0-9_./:=@%+,-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(' ');
}

export function createExec(log: Logger, opts: { dryRun?: boolean } = {}): Exec {
  const history: (readonly string[])[] = [];
  const dryRun = opts.dryRun ?? false;

  const options = (spec: CommandSpec) => ({
    cwd: spec.cwd,
    env: { ...spec.env, ...spec.secretEnv },
    extendEnv: true,
    reject: false,
    stripFinalNewline: false,
    ...(spec.timeoutMs ? { timeout: spec.timeoutMs } : {}),
    ...(spec.input !== undefined ? { input: spec.input } : {}),
    ...(spec.stream ? { buffer: false } : {}),
  });

  function check(spec: CommandSpec, exitCode: number | undefined, stderr: string, started: number, stdout: string, extra?: string): CommandResult {
    const durationMs = Date.now() - started;
    const ok = spec.okCodes ?? [0];
    const warn = spec.warnCodes ?? [];
    if (exitCode !== undefined && (ok.includes(exitCode) || warn.includes(exitCode))) {
      log.debug({ argv: spec.argv, exitCode, durationMs }, 'command finished');
      return { exitCode, stdout, stderr, warning: warn.includes(exitCode), durationMs };
    }
    const name = spec.argv[0] ?? '?';
    const last = stderr.trim().split('\n').slice(-3).join(' | ');
    log.debug({ argv: spec.argv, exitCode, durationMs }, 'command failed');
    throw new CommandError(
      `${name} ${exitCode === undefined ? `was killed${extra ? ` (${extra})` : ''}` : `exited with code ${exitCode}`}${last ? `: ${last}` : ''}`,
      spec.argv,
      exitCode,
      stderr,
    );
  }

  return {
    dryRun,
    history,
    async run(spec, signal) {
      history.push(spec.argv);
      log.debug({ argv: spec.argv, cwd: spec.cwd, env: spec.env }, dryRun ? 'would run' : 'run');
      if (dryRun) return { exitCode: 0, stdout: '', stderr: '', warning: false, durationMs: 0 };
      const started = Date.now();
      const file = spec.argv[0];
      const r = await launch(spec.argv, options(spec), signal);
      const why = cannotRun(r);
      if (why) throw new CommandError(`cannot run ${file}: ${why}`, spec.argv, undefined, '', `is ${file} installed and on PATH?`);
      return check(spec, r.exitCode, String(r.stderr ?? ''), started, String(r.stdout ?? ''), r.signal ?? undefined);
    },
    async runToFile(spec, file, transforms = [], signal) {
      history.push(spec.argv);
      log.debug({ argv: spec.argv, file }, dryRun ? 'would run to file' : 'run to file');
      if (dryRun) return { exitCode: 0, stdout: '', stderr: '', warning: false, durationMs: 0 };
      const started = Date.now();
      const cmd = spec.argv[0];
      const child = launch(spec.argv, { ...options(spec), stdout: 'pipe', buffer: { stdout: false, stderr: true } }, signal);
      const out = createWriteStream(file, { mode: FILE_MODE, flags: 'wx' });
      const piping = pipeline([child.stdout!, ...transforms, out] as unknown as Parameters<typeof pipeline>[0][]);
      const [r] = await Promise.all([child, piping.catch((err: unknown) => err)]).then(async ([res, pipeErr]) => {
        if (pipeErr instanceof Error) throw new CommandError(`writing ${file} failed: ${pipeErr.message}`, spec.argv, res.exitCode, String(res.stderr ?? ''));
        return [res] as const;
      });
      const why = cannotRun(r);
      if (why) throw new CommandError(`cannot run ${cmd}: ${why}`, spec.argv, undefined, '', `is ${cmd} installed and on PATH?`);
      return check(spec, r.exitCode, String(r.stderr ?? ''), started, '', r.signal ?? undefined);
    },
    async pipe(from, to, signal) {
      history.push(from.argv, to.argv);
      log.debug({ from: from.argv, to: to.argv }, dryRun ? 'would run piped' : 'run piped');
      if (dryRun) return { exitCode: 0, stdout: '', stderr: '', warning: false, durationMs: 0 };
      const started = Date.now();
      const left = launch(from.argv, { ...options(from), stdout: 'pipe', buffer: { stdout: false, stderr: true } }, signal);
      const right = launch(to.argv, { ...options(to), stdin: 'pipe' }, signal);
      left.stdout!.pipe(right.stdin!);
      right.stdin!.on('error', () => undefined); // the reader exiting early shows up as its exit code
      const [l, r] = await Promise.all([left, right]);
      for (const [res, spec] of [[l, from], [r, to]] as const) {
        const why = cannotRun(res);
        if (why) throw new CommandError(`cannot run ${spec.argv[0]}: ${why}`, spec.argv, undefined, '', `is ${spec.argv[0]} installed and on PATH?`);
      }
      // The reader's failure explains more (e.g. SQL error); check it first.
      const out = check(to, r.exitCode, String(r.stderr ?? ''), started, String(r.stdout ?? ''), r.signal ?? undefined);
      check(from, l.exitCode, String(l.stderr ?? ''), started, '', l.signal ?? undefined);
      return out;
    },
    spawn(spec, signal) {
      history.push(spec.argv);
      log.debug({ argv: spec.argv }, 'spawn');
      return launch(spec.argv, options(spec), signal);
    },
    runFed(spec, signal) {
      history.push(spec.argv);
      log.debug({ argv: spec.argv, cwd: spec.cwd, env: spec.env }, dryRun ? 'would run (input fed)' : 'run (input fed)');
      if (dryRun) return { stdin: new PassThrough().resume(), done: Promise.resolve({ exitCode: 0, stdout: '', stderr: '', warning: false, durationMs: 0 }) };
      const started = Date.now();
      const file = spec.argv[0];
      const child = launch(spec.argv, { ...options(spec), stdin: 'pipe' }, signal);
      child.stdin!.on('error', () => undefined);
      const done = Promise.resolve(child).then((r) => {
        const why = cannotRun(r);
        if (why) throw new CommandError(`cannot run ${file}: ${why}`, spec.argv, undefined, '', `is ${file} installed and on PATH?`);
        return check(spec, r.exitCode, String(r.stderr ?? ''), started, String(r.stdout ?? ''), r.signal ?? undefined);
      });
      return { stdin: child.stdin!, done };
    },
  };
}

// ---------------------------------------------------------------- offsite: pipelines

/** One stage of a pipeline: a command (argv) or an in-process stream transform (gzip, hashing). */
export type PipelineStage = CommandSpec | Transform;

export interface PipelineOptions {
  /** Feeds the first stage (default: the first command's stdin is /dev/null). */
  input?: Readable;
  /** Receives the last stage's output (default: a last command's stdout is discarded). */
  output?: Writable;
  signal?: AbortSignal;
}

function isCommand(s: PipelineStage): s is CommandSpec {
  return Array.isArray((s as CommandSpec).argv);
}

/**
 * Runs `a | b | c` without a shell: every command is an argv, connected by pipes through Node
 * streams (memory stays flat), with in-process transforms anywhere in the chain. Fails with one
 * CommandError naming every stage that failed (a downstream failure usually makes the upstream die
 * of a broken pipe, so all are listed); kills the others when one fails.
 */
export async function runPipeline(exec: Exec, log: Logger, stages: readonly PipelineStage[], opts: PipelineOptions = {}): Promise<CommandResult[]> {
  const commands = stages.filter(isCommand);
  for (const c of commands) (exec.history as (readonly string[])[]).push(c.argv);
  const argvs = commands.map((c) => c.argv);
  log.debug({ argv: argvs }, exec.dryRun ? 'would run pipeline' : 'run pipeline');
  if (exec.dryRun) return commands.map(() => ({ exitCode: 0, stdout: '', stderr: '', warning: false, durationMs: 0 }));
  const started = Date.now();
  const pipe = pipeline as (a: Readable, b: Writable) => Promise<void>;
  const children: { spec: CommandSpec; child: ResultPromise; stderr: { text: string } }[] = [];
  const piping: Promise<unknown>[] = [];
  let current: Readable | undefined = opts.input;
  const killAll = () => {
    for (const c of children) c.child.kill('SIGTERM');
  };
  stages.forEach((stage, i) => {
    const last = i === stages.length - 1;
    if (isCommand(stage)) {
      const child = launch(stage.argv, {
        cwd: stage.cwd,
        env: { ...stage.env, ...stage.secretEnv },
        extendEnv: true,
        reject: false,
        buffer: false,
        stdin: current ? 'pipe' : 'ignore',
        stdout: last && !opts.output ? 'ignore' : 'pipe',
        stderr: 'pipe',
        ...(stage.timeoutMs ? { timeout: stage.timeoutMs } : {}),
      }, opts.signal);
      const stderr = { text: '' };
      child.stderr?.setEncoding('utf8');
      child.stderr?.on('data', (d: string) => {
        stderr.text = (stderr.text + d).slice(-8192);
      });
      if (current) piping.push(pipe(current, child.stdin!).catch((err: unknown) => err));
      current = child.stdout ?? undefined;
      children.push({ spec: stage, child, stderr });
    } else {
      if (!current) throw new TypeError('a pipeline cannot start with a transform without input');
      piping.push(pipe(current, stage).catch((err: unknown) => err));
      current = stage;
    }
  });
  if (opts.output && current) piping.push(pipe(current, opts.output).catch((err: unknown) => err));
  // A failing command ends the whole chain.
  const results = await Promise.all(
    children.map(async (c) => {
      const r = await c.child;
      const ok = r.exitCode !== undefined && (c.spec.okCodes ?? [0]).includes(r.exitCode);
      if (!ok) killAll();
      return r;
    }),
  );
  const pipeErrors = (await Promise.all(piping)).filter((e): e is Error => e instanceof Error);
  const failed: string[] = [];
  results.forEach((r, i) => {
    const c = children[i]!;
    const ok = r.exitCode !== undefined && (c.spec.okCodes ?? [0]).includes(r.exitCode);
    if (ok) return;
    const name = c.spec.argv[0] ?? '?';
    const tail = c.stderr.text.trim().split('\n').slice(-3).join(' | ');
    const why = cannotRun({ ...r, stderr: c.stderr.text });
    if (why) failed.push(`cannot run ${name}: ${why}`);
    else failed.push(`${name} ${r.exitCode === undefined ? `was killed (${r.signal ?? 'signal'})` : `exited with code ${r.exitCode}`}${tail ? `: ${tail}` : ''}`);
  });
  const durationMs = Date.now() - started;
  if (failed.length > 0 || pipeErrors.length > 0) {
    const msg = failed.length > 0 ? failed.join('; ') : `pipe failed: ${pipeErrors[0]!.message}`;
    log.debug({ argv: argvs, durationMs }, 'pipeline failed');
    const firstBad = results.findIndex((r, i) => !(r.exitCode !== undefined && (children[i]!.spec.okCodes ?? [0]).includes(r.exitCode)));
    const bad = children[firstBad < 0 ? 0 : firstBad]!;
    throw new CommandError(msg, bad.spec.argv, results[firstBad < 0 ? 0 : firstBad]?.exitCode, bad.stderr.text);
  }
  log.debug({ argv: argvs, durationMs }, 'pipeline finished');
  return results.map((r, i) => ({ exitCode: r.exitCode ?? 0, stdout: '', stderr: children[i]!.stderr.text, warning: false, durationMs }));
}
