/** Builds a Capistrano-shaped Rails tree: <name>-app/{current,releases,shared}, shared/var -> data dir. */
import path from 'node:path';
import { makeTree, type Tree } from './tree.js';

export interface RailsTree {
  /** The `<name>` symlink to `<name>-app/current/public` (what the example inventory's app path names). */
  link: string;
  cap: string;
  data: string;
  current: string;
}

export async function makeRailsTree(root: string, name: string, databaseYml: string, extra: Tree = {}): Promise<RailsTree> {
  const rails = path.join(root, 'home', 'v2', 'rails');
  const data = path.join(root, 'v01', 'rails', 'data', name, 'var');
  await makeTree(data, { file_assets: { '1.pdf': '%PDF one\n', '2.png': 'PNG two\n' } });
  const release = (rev: string): Tree => ({ app: { 'models.rb': `# ${rev}\n` }, config: { 'database.yml': databaseYml }, public: { 'index.html': `<p>${rev}</p>\n` }, db: {}, REVISION: `${rev}\n` });
  await makeTree(path.join(rails, `${name}-app`), {
    releases: { '240101120000': release('old'), '240201120000': { ...release('new'), ...extra } },
    current: { symlink: 'releases/240201120000' },
    shared: { config: { 'secrets.yml': 'secret_key_base: x\n' }, log: { 'production.log': 'log\n' }, pids: { 'puma.pid': '123\n' }, var: { symlink: data } },
  });
  await makeTree(rails, { [name]: { symlink: `${name}-app/current/public` } });
  return { link: path.join(rails, name), cap: path.join(rails, `${name}-app`), data, current: path.join(rails, `${name}-app`, 'current') };
}
