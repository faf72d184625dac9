/**
 * The path convention, as one import: names (lib/model/names.ts: what is valid, every name made and
 * parsed back) and layout (lib/model/layout.ts: every path, the only code that builds them).
 * lib/ imports those two directly; this re-export is kept for the tests and for the two files
 * being split this round (lib/tiers/jobs/run.ts, lib/tiers/pull/pull.ts) and can go once they import directly.
 */
export * from './names.js';
export * from './layout.js';
