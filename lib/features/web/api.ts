/**
 * The JSON API, under the same sign-in (session cookie or Basic auth) and the same per-app check:
 * status (the same rows as `tierback status --json`), history with running runs (lib/model/runs.ts),
 * points, listings and a streamed search (NDJSON). Read-only.
 */
import { Readable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { RefusedError } from '../../base/errors.js';
import { appHistory } from '../../model/runs.js';
import { siteStatus } from '../status/index.js';
import { findAcross, findPoint, listFolder, MAX_PAGE, PAGE, pointsOf, resolveEntry } from './browse.js';
import { intParam, machine } from './pages.js';
import { appFor, visibleApps, type Ctx } from './server.js';

type Q = Record<string, string | undefined>;

export function registerApi(app: FastifyInstance, ctx: Ctx): void {
  app.get('/api/apps', async (req) => ({ apps: visibleApps(ctx, req.authed!).map((a) => ({ name: a.name, type: a.type, server: a.server, vm: a.vm, relpath: a.relpath, status: a.status })) }));
  app.get('/api/status', async (req) => {
    const apps = visibleApps(ctx, req.authed!).map((a) => a.name);
    if (apps.length === 0) return { rows: [], running: [], counts: {} };
    return siteStatus(ctx.site, { ...machine(ctx), apps });
  });
  app.get('/api/apps/:app/history', async (req) => {
    const a = appFor(ctx, req, (req.params as Q)['app']!);
    const since = (req.query as Q)['since'];
    return appHistory(ctx.site, a.name, { ...machine(ctx), ...(since ? { since } : {}) });
  });
  app.get('/api/apps/:app/points', async (req) => {
    const a = appFor(ctx, req, (req.params as Q)['app']!);
    const points = await pointsOf(ctx.site, a, ctx.opts.root);
    return { app: a.name, points: points.map(({ disk: _d, historyDisk: _h, ...p }) => p) };
  });
  app.get('/api/apps/:app/list', async (req) => {
    const a = appFor(ctx, req, (req.params as Q)['app']!);
    const { point: pointId, path: rel, from, limit } = req.query as Q;
    const point = findPoint(await pointsOf(ctx.site, a, ctx.opts.root), pointId);
    const r = await resolveEntry(point, rel);
    if (!r.stat.isDirectory()) throw new RefusedError(`"${r.rel}" is not a folder`, 'list a folder of the point');
    const start = intParam(from, 0, Number.MAX_SAFE_INTEGER);
    const list = await listFolder(r.disk, start, Math.max(1, intParam(limit, PAGE, MAX_PAGE)));
    return { app: a.name, point: point.id, path: r.rel, from: start, ...list };
  });
  app.get('/api/apps/:app/find', async (req, reply) => {
    const a = appFor(ctx, req, (req.params as Q)['app']!);
    const pattern = ((req.query as Q)['q'] ?? '').slice(0, 500);
    if (!pattern.trim()) throw new RefusedError('give a pattern: ?q=database.yml', 'a name, part of a path, or a shell pattern');
    const points = await pointsOf(ctx.site, a, ctx.opts.root);
    async function* lines() {
      for await (const h of findAcross(points, pattern)) yield `${JSON.stringify(h)}\n`;
    }
    return reply.type('application/x-ndjson').send(Readable.from(lines()));
  });
}
