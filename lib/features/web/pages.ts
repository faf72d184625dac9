/** The routes of the pages and downloads; each checks the account's apps (appFor) first. */
import path from 'node:path';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { RefusedError } from '../../base/errors.js';
import { buildReport, reportPageChunks } from '../report/index.js';
import { siteStatus } from '../status/index.js';
import { dumpsOf, findAcross, findPoint, listFolder, MAX_PAGE, PAGE, pointsOf, resolveEntry } from './browse.js';
import { openNoFollow } from './fspath.js';
import { appPage, appUrl, dashboardPage, dumpsPage, findHead, findTail, folderPage, hitRow, page } from './render/pages.js';
import { html } from '../report/index.js';
import { appFor, visibleApps, type Ctx } from './server.js';
import { tarGz } from './tar.js';

type Q = Record<string, string | undefined>;
const q = (req: FastifyRequest) => (req.query ?? {}) as Q;
const asHtml = (reply: FastifyReply) => reply.type('text/html; charset=utf-8');

export function intParam(v: string | undefined, dflt: number, max: number): number {
  const n = v === undefined || v === '' ? dflt : Number(v);
  if (!Number.isInteger(n) || n < 0) throw new RefusedError(`"${v}" is not a whole number`, 'give a number');
  return Math.min(n, max);
}

/** RFC 6266 attachment name, ASCII fallback plus UTF-8. */
export function attachment(name: string): string {
  const ascii = name.replace(/[^\x20-\x7e]|["\\]/g, '_');
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(name)}`;
}

export function machine(ctx: Ctx) {
  return { root: ctx.opts.root, host: ctx.opts.host === undefined ? undefined : ctx.opts.host, env: ctx.opts.env, now: ctx.opts.now?.() ?? new Date() };
}

/** Sends one file of a point: never a symlink (O_NOFOLLOW), never a folder. */
export async function sendFile(ctx: Ctx, req: FastifyRequest, reply: FastifyReply, appName: string, pointId: string | undefined, rel: string | undefined) {
  const app = appFor(ctx, req, appName);
  const point = findPoint(await pointsOf(ctx.site, app, ctx.opts.root), pointId);
  const r = await resolveEntry(point, rel);
  if (r.stat.isSymbolicLink()) throw new RefusedError(`"${r.rel}" is a link; downloads never follow links`, 'the listing shows where it points; download that instead');
  if (!r.stat.isFile()) throw new RefusedError(`"${r.rel}" is not a file`, 'download a folder as .tar.gz');
  const fh = await openNoFollow(r.disk);
  const st = await fh.stat();
  ctx.audit.write({ event: 'download', user: req.authed!.user, ip: req.ip, app: app.name, point: point.id, path: r.rel });
  return reply.type('application/octet-stream').header('Content-Disposition', attachment(path.basename(r.rel))).header('Content-Length', String(st.size)).send(fh.createReadStream({ start: 0, end: Math.max(0, st.size - 1), autoClose: true }));
}

export async function sendFolder(ctx: Ctx, req: FastifyRequest, reply: FastifyReply, appName: string, pointId: string | undefined, rel: string | undefined) {
  const app = appFor(ctx, req, appName);
  const point = findPoint(await pointsOf(ctx.site, app, ctx.opts.root), pointId);
  const r = await resolveEntry(point, rel);
  if (!r.stat.isDirectory()) throw new RefusedError(`"${r.rel}" is not a folder`, 'download a file with its own link');
  const top = r.rel ? path.basename(r.rel) : `${app.name}-${point.snapshot ?? 'local'}`;
  ctx.audit.write({ event: 'download-folder', user: req.authed!.user, ip: req.ip, app: app.name, point: point.id, path: r.rel || '.' });
  const ac = new AbortController();
  req.raw.once('close', () => ac.abort());
  return reply.type('application/gzip').header('Content-Disposition', attachment(`${top}.tar.gz`)).send(tarGz(r.disk, top, ac.signal));
}

export function registerPages(app: FastifyInstance, ctx: Ctx): void {
  app.get('/', async (req, reply) => {
    const a = req.authed!;
    const apps = visibleApps(ctx, a);
    if (apps.length === 0) return asHtml(reply).send(page('tierback', html`<h1>No apps</h1><p>This account may see no app of this site.</p>`, a.user));
    const data = await buildReport(ctx.site, { ...machine(ctx), apps: apps.map((x) => x.name) });
    return asHtml(reply).send(dashboardPage(data, a.user));
  });
  // The static report's page (problems first, groups by server, sort and filter) over the account's apps.
  app.get('/report', async (req, reply) => {
    const a = req.authed!;
    const apps = visibleApps(ctx, a);
    // No apps is not "every app" (buildReport reads an empty list as all).
    if (apps.length === 0) return asHtml(reply).send(page('tierback', html`<h1>No apps</h1><p>This account may see no app of this site.</p>`, a.user));
    const data = await buildReport(ctx.site, { ...machine(ctx), apps: apps.map((x) => x.name) });
    const { Readable } = await import('node:stream');
    return asHtml(reply).send(Readable.from(reportPageChunks(data, appUrl)));
  });
  app.get('/app/:app', async (req, reply) => {
    const a = appFor(ctx, req, (req.params as Q)['app']!);
    const points = await pointsOf(ctx.site, a, ctx.opts.root);
    const status = await siteStatus(ctx.site, { ...machine(ctx), apps: [a.name] });
    return asHtml(reply).send(appPage(a.name, points, status.rows, dumpsOf(points), ctx.site.timezone, req.authed!.user));
  });
  app.get('/app/:app/browse', async (req, reply) => {
    const a = appFor(ctx, req, (req.params as Q)['app']!);
    const { point: pointId, path: rel, from } = q(req);
    const point = findPoint(await pointsOf(ctx.site, a, ctx.opts.root), pointId);
    const r = await resolveEntry(point, rel);
    if (r.stat.isFile()) return sendFile(ctx, req, reply, a.name, pointId, rel);
    if (!r.stat.isDirectory()) throw new RefusedError(`"${r.rel}" is a link; links are shown, never followed here`, 'open the folder it points to, if it is in this point');
    const start = intParam(from, 0, Number.MAX_SAFE_INTEGER);
    const list = await listFolder(r.disk, start, PAGE);
    return asHtml(reply).send(folderPage(a.name, point.id, r.rel, list.entries, start, list.more, req.authed!.user));
  });
  app.get('/app/:app/file', async (req, reply) => sendFile(ctx, req, reply, (req.params as Q)['app']!, q(req)['point'], q(req)['path']));
  app.get('/app/:app/tar', async (req, reply) => sendFolder(ctx, req, reply, (req.params as Q)['app']!, q(req)['point'], q(req)['path']));
  app.get('/app/:app/dumps', async (req, reply) => {
    const a = appFor(ctx, req, (req.params as Q)['app']!);
    const points = await pointsOf(ctx.site, a, ctx.opts.root);
    return asHtml(reply).send(dumpsPage(a.name, dumpsOf(points), ctx.site.timezone, req.authed!.user));
  });
  app.get('/app/:app/find', async (req, reply) => {
    const a = appFor(ctx, req, (req.params as Q)['app']!);
    const pattern = (q(req)['q'] ?? '').slice(0, 500);
    const text = findHead(a.name, pattern, req.authed!.user);
    const cut = text.lastIndexOf('@@ROWS@@');
    const head = text.slice(0, cut);
    const rest = text.slice(cut + '@@ROWS@@'.length);
    if (!pattern.trim()) return asHtml(reply).send(head + findTail(0, false).replace(/<p id="found">.*<\/p>/, '') + rest);
    const points = await pointsOf(ctx.site, a, ctx.opts.root);
    // Streamed: rows go out as they are found.
    async function* body() {
      yield head;
      let n = 0;
      let more = false;
      for await (const h of findAcross(points, pattern)) {
        if ('done' in h) more = h.more;
        else {
          n++;
          yield hitRow(a.name, h);
        }
      }
      yield findTail(n, more) + rest;
    }
    const { Readable } = await import('node:stream');
    return asHtml(reply).send(Readable.from(body()));
  });
}

export { MAX_PAGE };
