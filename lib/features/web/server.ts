/**
 * `tierback serve`: the web interface (fastify). Off unless started; binds 127.0.0.1 unless told,
 * and another address needs TLS or a declared reverse proxy. Every request after sign-in checks
 * the account's apps on the server side (pages, listings, downloads, API alike). Read-only: no
 * route writes to a backup or to a live app. Security headers on every answer; no scripts.
 */
import { readFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { RefusedError, TierbackError, UsageError, NotFoundError } from '../../base/errors.js';
import type { ResolvedApp, Site } from '../../model/inventory/model.js';
import type { MachineOptions } from '../../model/machine.js';
import { maysee, readAccounts, type Account } from './accounts.js';
import { AuditLog } from './audit.js';
import { registerApi } from './api.js';
import { registerPages } from './pages.js';
import { errorPage } from './render/pages.js';
import { REPORT_SCRIPT_HASH, REPORT_STYLE_HASH, SITE_CSS } from '../report/index.js';
import { registerSignIn, sessionUser } from './signin.js';
import { Sessions, Throttle } from './sessions.js';

export interface ServeOptions extends MachineOptions {
  site: Site;
  usersFile: string;
  auditFile: string;
  /** Address to bind (default 127.0.0.1); `host` is which inventory server this machine is. */
  listen?: string | undefined;
  port?: number | undefined;
  tls?: { cert: string; key: string } | undefined;
  /** Declared: a reverse proxy on this machine terminates TLS (docs/web.md); cookies get Secure, X-Forwarded-For from loopback is trusted. */
  behindProxy?: boolean | undefined;
  sessionHours?: number | undefined;
  now?: () => Date;
}

/** What each route gets: the site, the account and its apps, the audit log. */
export interface Ctx {
  site: Site;
  opts: ServeOptions;
  sessions: Sessions;
  throttle: Throttle;
  audit: AuditLog;
  secureCookies: boolean;
  account: (name: string) => Promise<Account | undefined>;
}

export interface Authed {
  user: string;
  account: Account;
}

declare module 'fastify' {
  interface FastifyRequest {
    authed?: Authed;
  }
}

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

export function checkBinding(opts: Pick<ServeOptions, 'listen' | 'tls' | 'behindProxy'>): void {
  const host = opts.listen ?? '127.0.0.1';
  if (!LOOPBACK.has(host) && !opts.tls) throw new RefusedError(`serving on ${host} without TLS is refused`, 'give --tls-cert and --tls-key, or keep 127.0.0.1 behind a reverse proxy with --behind-proxy (docs/web.md)');
  if (host !== 'localhost' && isIP(host) === 0) throw new UsageError(`--listen "${host}" is not an IP address`, 'give 127.0.0.1 (default), ::1, or this machine\'s address');
}

// The report page (/report) is the static report's: its one inline style and script are allowed by their hashes only.
const CSP = `default-src 'none'; style-src 'self' ${REPORT_STYLE_HASH}; script-src ${REPORT_SCRIPT_HASH}; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'`;

/** The app `name` if the account may see it; else a 404 that says no more than for an unknown app. */
export function appFor(ctx: Ctx, req: FastifyRequest, name: string): ResolvedApp {
  const a = req.authed!;
  const app = ctx.site.apps.find((x) => x.name === name);
  if (!app || !maysee(a.account, name)) {
    ctx.audit.write({ event: 'refused', user: a.user, ip: req.ip, app: name, path: req.url, reason: app ? 'app not allowed' : 'no such app' });
    throw new NotFoundError(`no app "${name}" you may see`, 'the overview lists your apps');
  }
  return app;
}

export function visibleApps(ctx: Ctx, a: Authed): ResolvedApp[] {
  return ctx.site.apps.filter((x) => x.status !== 'retired' && maysee(a.account, x.name));
}

function statusOf(err: unknown): number {
  if (err instanceof NotFoundError) return 404;
  if (err instanceof RefusedError) return 403;
  if (err instanceof UsageError) return 400;
  if ((err as { statusCode?: number }).statusCode && (err as { statusCode: number }).statusCode < 500) return (err as { statusCode: number }).statusCode;
  return 500;
}

export async function buildServer(opts: ServeOptions): Promise<{ app: FastifyInstance; audit: AuditLog }> {
  const tls = opts.tls ? { cert: await readFile(opts.tls.cert), key: await readFile(opts.tls.key) } : undefined;
  const audit = await AuditLog.open(opts.auditFile);
  const app = (tls
    ? Fastify({ https: tls, logger: false, trustProxy: opts.behindProxy ? 'loopback' : false, bodyLimit: 8192 })
    : Fastify({ logger: false, trustProxy: opts.behindProxy ? 'loopback' : false, bodyLimit: 8192 })) as unknown as FastifyInstance;
  const ctx: Ctx = {
    site: opts.site,
    opts,
    sessions: new Sessions((opts.sessionHours ?? 8) * 3_600_000),
    throttle: new Throttle(),
    audit,
    secureCookies: !!tls || !!opts.behindProxy,
    account: async (name) => (await readAccounts(opts.usersFile)).users[name],
  };
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: 8192 }, (_req, body, done) => {
    done(null, Object.fromEntries(new URLSearchParams(String(body))));
  });
  app.addHook('onRequest', async (req, reply) => {
    reply.header('Content-Security-Policy', CSP);
    reply.header('X-Content-Type-Options', 'nosniff');
    reply.header('X-Frame-Options', 'DENY');
    reply.header('Referrer-Policy', 'no-referrer');
    reply.header('Cache-Control', 'no-store');
    if (ctx.secureCookies) reply.header('Strict-Transport-Security', 'max-age=31536000');
    // Encoded slashes, dots and NULs in the path part are refused before routing.
    if (/%(2f|5c|2e|00)/i.test(req.url.split('?')[0]!)) {
      audit.write({ event: 'refused', ip: req.ip, path: req.url.slice(0, 300), reason: 'encoded path' });
      return reply.code(400).type('text/plain').send('refused: encoded path');
    }
    return undefined;
  });
  app.get('/static/tierback.css', async (_req, reply) => reply.type('text/css; charset=utf-8').header('Cache-Control', 'max-age=3600').send(SITE_CSS));
  registerSignIn(app, ctx);
  // Everything else needs a signed-in account (a session cookie, or Basic auth for the API).
  app.addHook('preHandler', async (req, reply) => {
    const path = req.url.split('?')[0]!;
    if (path === '/login' || path.startsWith('/static/')) return;
    const authed = await sessionUser(ctx, req, reply);
    if (reply.sent) return;
    if (!authed) {
      if (path.startsWith('/api/')) return reply.code(401).header('WWW-Authenticate', 'Basic realm="tierback", charset="UTF-8"').send({ error: 'sign in first (session cookie or Basic auth)' });
      return reply.redirect('/login', 303);
    }
    req.authed = authed;
    return undefined;
  });
  registerPages(app, ctx);
  registerApi(app, ctx);
  app.setNotFoundHandler((req, reply) => {
    if (req.url.startsWith('/api/')) return reply.code(404).send({ error: 'not found' });
    return reply.code(404).type('text/html; charset=utf-8').send(errorPage(404, 'No such page', undefined, req.authed?.user));
  });
  app.setErrorHandler((err: unknown, req: FastifyRequest, reply: FastifyReply) => {
    const status = statusOf(err);
    const message = err instanceof TierbackError || status < 500 ? (err as Error).message : 'internal error';
    const hint = err instanceof TierbackError ? err.hint : undefined;
    if (status === 403 || status === 400) audit.write({ event: 'refused', user: req.authed?.user, ip: req.ip, app: (req.params as Record<string, string> | undefined)?.['app'], path: req.url.slice(0, 500), reason: message });
    if (reply.sent) return;
    if (req.url.startsWith('/api/')) return reply.code(status).send({ error: message, ...(hint ? { hint } : {}) });
    return reply.code(status).type('text/html; charset=utf-8').send(errorPage(status, message, hint, req.authed?.user));
  });
  app.addHook('onClose', async () => audit.close());
  return { app, audit };
}

/** Builds and listens; resolves with the URL once bound. */
export async function startServer(opts: ServeOptions): Promise<{ url: string; close: () => Promise<void> }> {
  checkBinding(opts);
  const { app } = await buildServer(opts);
  const host = opts.listen ?? '127.0.0.1';
  await app.listen({ host, port: opts.port ?? 8080 });
  const addr = app.server.address();
  const port = typeof addr === 'object' && addr ? addr.port : opts.port;
  const shown = host.includes(':') ? `[${host}]` : host;
  return { url: `${opts.tls ? 'https' : 'http'}://${shown}:${port}`, close: () => app.close() };
}
