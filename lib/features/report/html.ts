/**
 * Escaping HTML templates: `html\`<td>${value}</td>\`` escapes every interpolated value unless it
 * is itself an `Html` (a fragment built the same way) or wrapped in `raw()` (trusted markup only:
 * generated SVG, the shared CSS). Arrays are joined. Shared by the static report (lib/features/report/index.ts)
 * and the web interface (lib/features/web/), so nothing reaches a page unescaped by accident.
 */
export class Html {
  constructor(readonly text: string) {}
  toString(): string {
    return this.text;
  }
}

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

export type Value = Html | string | number | boolean | null | undefined | readonly Value[];

function part(v: Value): string {
  if (v === null || v === undefined || v === false) return '';
  if (v instanceof Html) return v.text;
  if (Array.isArray(v)) return v.map(part).join('');
  return escapeHtml(String(v));
}

/** The tagged template: interpolations are escaped, fragments are kept. */
export function html(strings: TemplateStringsArray, ...values: Value[]): Html {
  let out = strings[0]!;
  for (let i = 0; i < values.length; i++) out += part(values[i]!) + strings[i + 1]!;
  return new Html(out);
}

/** Trusted markup, kept as is. Never pass request or file data here. */
export function raw(s: string): Html {
  return new Html(s);
}

/** A URL with its query, every value encoded. */
export function href(base: string, query: Record<string, string | number | undefined> = {}): string {
  const q = Object.entries(query)
    .filter((e): e is [string, string | number] => e[1] !== undefined && e[1] !== '')
    .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`)
    .join('&');
  return q ? `${base}?${q}` : base;
}
