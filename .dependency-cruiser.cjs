/**
 * The layers of lib/ (docs/architecture.md), kept by dependency-cruiser, run by `npm test`
 * (scripts/test.sh) on the TypeScript sources: `npx depcruise lib cli`.
 *
 *   lib/base      imports nothing of ours
 *   lib/model     imports only base
 *   lib/tiers/*   imports base, model and other tiers (no cycles between tier folders)
 *   lib/site      imports base, model, tiers
 *   lib/features/* imports everything below; another feature only through its index.ts
 *   cli/          imports lib; lib never imports cli
 * Everywhere: no cycles between folders; execa and node:child_process only in lib/base/exec.ts.
 * A warning (not a failure) for a run-time import cycle between modules inside a folder.
 */
const above = (layers) => `^(lib/(${layers.join('|')})/|cli/)`;

module.exports = {
  forbidden: [
    {
      name: 'no-folder-cycles',
      severity: 'error',
      comment: 'Folders form a graph without cycles (docs/architecture.md); a cycle means a module sits in the wrong layer.',
      scope: 'folder',
      from: { path: '^(lib|cli)/' },
      to: { circular: true },
    },
    {
      name: 'no-module-cycles',
      severity: 'warn',
      comment: 'Inside a folder, modules should not import each other in a circle at run time (type-only cycles are erased by tsc and allowed). A warning: it does not fail npm test.',
      from: { path: '^(lib|cli)/' },
      to: { circular: true, viaOnly: { dependencyTypesNot: ['type-only'] } },
    },
    {
      name: 'base-imports-nothing-above',
      severity: 'error',
      comment: 'lib/base imports nothing of ours outside lib/base.',
      from: { path: '^lib/base/' },
      to: { path: above(['model', 'tiers', 'site', 'features']) },
    },
    {
      name: 'model-imports-only-base',
      severity: 'error',
      comment: 'lib/model imports only lib/base (and itself).',
      from: { path: '^lib/model/' },
      to: { path: above(['tiers', 'site', 'features']) },
    },
    {
      name: 'tiers-import-no-site-or-features',
      severity: 'error',
      comment: 'The tiers (lib/tiers/*) import base, model and each other, never the site or a feature.',
      from: { path: '^lib/tiers/' },
      to: { path: above(['site', 'features']) },
    },
    {
      name: 'site-imports-no-features',
      severity: 'error',
      comment: 'lib/site (the inventory loaded and checked against the job types) imports no feature.',
      from: { path: '^lib/site/' },
      to: { path: above(['features']) },
    },
    {
      name: 'features-only-through-index',
      severity: 'error',
      comment: "A feature uses another feature only through that feature's index.ts, never its insides.",
      from: { path: '^lib/features/([^/]+)/' },
      to: { path: '^lib/features/', pathNot: ['^lib/features/$1/', '^lib/features/[^/]+/index\\.ts$'] },
    },
    {
      name: 'lib-never-imports-cli',
      severity: 'error',
      comment: 'The library never prints or exits: it does not import the command line.',
      from: { path: '^lib/' },
      to: { path: '^cli/' },
    },
    {
      name: 'execa-only-in-exec',
      severity: 'error',
      comment: 'Every subprocess goes through lib/base/exec.ts (argv arrays, redaction, dry-run).',
      from: { path: '^(lib|cli)/', pathNot: '^lib/base/exec\\.ts$' },
      to: { path: '(^|/)node_modules/execa/' },
    },
    {
      name: 'child-process-only-in-exec',
      severity: 'error',
      comment: 'Every subprocess goes through lib/base/exec.ts (argv arrays, redaction, dry-run).',
      from: { path: '^(lib|cli)/', pathNot: '^lib/base/exec\\.ts$' },
      to: { dependencyTypes: ['core'], path: '^(node:)?child_process$' },
    },
    {
      name: 'no-unresolvable',
      severity: 'error',
      comment: 'An import that resolves to nothing (a path left behind by a move).',
      from: { path: '^(lib|cli)/' },
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^build/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'], extensions: ['.ts', '.js', '.mjs', '.cjs', '.json', '.d.ts'] },
    cache: false,
  },
};
