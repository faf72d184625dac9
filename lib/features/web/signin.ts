/** Sign-in, sign-out and who is asking: session cookies for people, Basic auth for the API. */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { dummyHash, verifyPassword } from './accounts.js';
import { loginPage } from './render/pages.js';
import type { Authed, Ctx } from './server.js';

export const COOKIE = 'tierback_session';

function cookieOf(req: FastifyRequest): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const i = part.indexOf('=');
    if (i > 0 && part.slice(0, i).trim() === COOKIE) return part.slice(i + 1).trim();
  }
  return undefined;
}

function cookie(ctx: Ctx, value: string, maxAgeS: number): string {
  return `${COOKIE}=${value}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${maxAgeS}${ctx.secureCookies ? '; Secure' : ''}`;
}

type Check = { ok: true; authed: Authed } | { ok: false; waitMs: number; reason: string };

/** Checks a user and password, throttled per account and per address; every outcome goes to the audit log. */
async function checkPassword(ctx: Ctx, user: string, password: string, ip: string): Promise<Check> {
  const keys = [`u:${user}`, `a:${ip}`];
  const wait = ctx.throttle.wait(keys);
  if (wait > 0) {
    ctx.audit.write({ event: 'signin-throttled', user, ip, reason: `retry in ${Math.ceil(wait / 1000)} s` });
    return { ok: false, waitMs: wait, reason: `Too many failed sign-ins: wait ${Math.ceil(wait / 1000)} s and try again.` };
  }
  const account = await ctx.account(user);
  const good = await verifyPassword(password, account?.hash ?? (await dummyHash()));
  if (!account || !good) {
    ctx.throttle.fail(keys);
    ctx.audit.write({ event: 'signin-refused', user, ip, reason: account ? 'wrong password' : 'no such user' });
    return { ok: false, waitMs: 0, reason: 'Wrong user or password.' };
  }
  ctx.throttle.succeed([`u:${user}`]);
  return { ok: true, authed: { user, account } };
}

/** The signed-in account of a request, or undefined. Basic auth (API) is checked like a sign-in. */
export async function sessionUser(ctx: Ctx, req: FastifyRequest, reply: FastifyReply): Promise<Authed | undefined> {
  const s = ctx.sessions.get(cookieOf(req));
  if (s) {
    const account = await ctx.account(s.user);
    if (account) return { user: s.user, account };
    ctx.sessions.removeUser(s.user);
    return undefined;
  }
  const auth = req.headers.authorization;
  if (auth?.startsWith('Basic ') && req.url.startsWith('/api/')) {
    const text = Buffer.from(auth.slice(6), 'base64').toString('utf8');
    const i = text.indexOf(':');
    if (i < 1) return undefined;
    const r = await checkPassword(ctx, text.slice(0, i), text.slice(i + 1), req.ip);
    if (r.ok) return r.authed;
    if (r.waitMs > 0) await reply.code(429).header('Retry-After', String(Math.ceil(r.waitMs / 1000))).send({ error: r.reason });
  }
  return undefined;
}

export function registerSignIn(app: FastifyInstance, ctx: Ctx): void {
  const html = (reply: FastifyReply) => reply.type('text/html; charset=utf-8');
  app.get('/login', async (_req, reply) => html(reply).send(loginPage()));
  app.post('/login', async (req, reply) => {
    const body = (req.body ?? {}) as Record<string, string>;
    const user = String(body['user'] ?? '').slice(0, 64);
    const password = String(body['password'] ?? '').slice(0, 1024);
    const r = await checkPassword(ctx, user, password, req.ip);
    if (!r.ok) {
      if (r.waitMs > 0) reply.code(429).header('Retry-After', String(Math.ceil(r.waitMs / 1000)));
      else reply.code(401);
      return html(reply).send(loginPage(r.reason, user));
    }
    const s = ctx.sessions.create(user);
    ctx.audit.write({ event: 'signin', user, ip: req.ip });
    return reply.header('Set-Cookie', cookie(ctx, s.id, Math.round((s.expires - Date.now()) / 1000))).redirect('/', 303);
  });
  app.post('/logout', async (req, reply) => {
    const id = cookieOf(req);
    const s = ctx.sessions.get(id);
    ctx.sessions.remove(id);
    if (s) ctx.audit.write({ event: 'signout', user: s.user, ip: req.ip });
    return reply.header('Set-Cookie', cookie(ctx, '', 0)).redirect('/login', 303);
  });
}
