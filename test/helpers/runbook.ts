/** Runs the manual blocks of docs/restore.md (```sh title=manual-...```) literally, with bash, as a person would paste them. */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import { ROOT } from './cli.js';

export const RUNBOOK = path.join(ROOT, 'docs', 'restore.md');

/** The fenced `sh` blocks titled `title=<name>`, by name. */
export async function runbookBlocks(file = RUNBOOK): Promise<Map<string, string>> {
  const text = await readFile(file, 'utf8');
  const blocks = new Map<string, string>();
  for (const m of text.matchAll(/^```sh title=([a-z0-9-]+)\n([\s\S]*?)^```$/gm)) blocks.set(m[1]!, m[2]!);
  return blocks;
}

/** Runs one block with `bash -e -o pipefail`; the variables the runbook asks the reader to set come in the environment. */
export async function runBlock(name: string, env: Record<string, string>): Promise<string> {
  const block = (await runbookBlocks()).get(name);
  if (!block) throw new Error(`docs/restore.md has no block titled ${name}`);
  const r = await execa('bash', ['-e', '-o', 'pipefail', '-c', block], { env, reject: false });
  if (r.exitCode !== 0) throw new Error(`block ${name} failed (${r.exitCode}):\n${block}\n${String(r.stderr)}`);
  return String(r.stdout);
}
