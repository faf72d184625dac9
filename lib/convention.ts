/**
 * The path convention, as one import: names (lib/names.ts: what is valid, every name made and
 * parsed back) and layout (lib/layout.ts: every path, the only code that builds them).
 * New code imports from those two directly; this re-export keeps existing imports working.
 */
export * from './names.js';
export * from './layout.js';
