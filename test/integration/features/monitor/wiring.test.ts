/** The job and pull commands deliver monitoring events through the runners' hooks (real HTTP server on loopback). */
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import yaml from 'js-yaml';
import { startRecorder } from '../../../helpers/http-recorder.js';
import { tierback } from '../../../helpers/cli.js';
import { makeTree, tempDir } from '../../../helpers/tree.js';

describe('monitoring wired into job and pull', async () => {
  const { dir, cleanup } = await tempDir();
  const rec = await startRecorder();
  after(async () => {
    await rec.close();
    await cleanup();
  });
  const partition = path.join(dir, 'partition');
  await makeTree(dir, { src: { 'a.txt': 'alpha\n', sub: { 'b.txt': 'beta\n' } } });
  const inv = {
    version: 1,
    defaults: { partition, timezone: 'UTC' },
    servers: [{ fqdn: 'srv.test.example', role: 'both' }],
    apps: [
      { name: 'docs', server: 'srv.test.example', path: path.join(dir, 'src'), relpath: 'docs.test.example', type: 'files' },
      { name: 'gone', server: 'srv.test.example', path: path.join(dir, 'missing'), relpath: 'gone.test.example', type: 'files' },
    ],
    backup_servers: [{ server: 'srv.test.example', pulls: [{ server: 'srv.test.example', transport: 'local' }] }],
    monitoring: {
      healthchecks: { apps: { docs: `${rec.url}/docs`, gone: `${rec.url}/gone` }, pulls: { 'srv.test.example': `${rec.url}/pull` } },
      prometheus: { textfile: path.join(dir, 'tierback.prom') },
    },
  };
  const file = path.join(dir, 'inventory.yaml');
  await writeFile(file, yaml.dump(inv));
  await makeTree(partition, { local: { _host: {} } });

  it('pings start and success for a good job, start and fail for a failing one', async () => {
    const r = await tierback(['job', 'docs', 'gone', '-i', file]);
    assert.equal(r.code, 5, r.stderr);
    const urls = rec.requests.map((q) => new URL(q.url, 'http://x').pathname);
    assert.ok(urls.includes('/docs/start'), urls.join(' '));
    assert.ok(urls.includes('/docs'), urls.join(' '));
    assert.ok(urls.includes('/gone/start'), urls.join(' '));
    assert.ok(urls.includes('/gone/fail'), urls.join(' '));
    assert.ok(!urls.includes('/docs/fail'));
    // The Prometheus textfile is rewritten once after the batch, with both apps in it.
    const prom = await readFile(path.join(dir, 'tierback.prom'), 'utf8');
    assert.match(prom, /app="docs"/);
    assert.match(prom, /app="gone"/);
  });
  it('pings the pull and writes the Prometheus textfile after it', async () => {
    const r = await tierback(['pull', '-i', file]);
    assert.equal(r.code, 0, r.stderr);
    const urls = rec.requests.map((q) => new URL(q.url, 'http://x').pathname);
    assert.ok(urls.includes('/pull/start'), urls.join(' '));
    assert.ok(urls.includes('/pull'), urls.join(' '));
    const prom = await readFile(path.join(dir, 'tierback.prom'), 'utf8');
    assert.match(prom, /docs/);
  });
  it('sends nothing on a dry run', async () => {
    const before = rec.requests.length;
    const r = await tierback(['job', 'docs', '--dry-run', '-i', file]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(rec.requests.length, before);
  });
});
