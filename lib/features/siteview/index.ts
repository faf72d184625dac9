/**
 * The site view (`tierback status|report|monitor export --site`): every backup server's status
 * feed, gathered at once (locally or over SSH with a key restricted to the feed) and merged into
 * one status report that the usual renderers (table, --check, JSON, Prometheus, HTML) take.
 */
import type { Site } from '../../model/inventory/model.js';
import { scanMachine } from '../../model/machine.js';
import { gatherFeeds, type GatherOptions } from './gather.js';
import { SiteMerger, type SiteReport } from './merge.js';

export { FEED_NAME, FEED_VERSION, statusFeed, writeStatusFeed, type FeedEnd, type FeedHeader } from './feed.js';
export { feedRemoteCommand, sshFailureReason, type FeedResult, type GatherOptions } from './gather.js';
export type { SiteReport } from './merge.js';
export { siteViewKey, type SiteViewKey, type SiteViewKeyOptions } from './authorize.js';
export { siteReportData } from './report.js';

/** Gathers and merges the status of every backup server of the site. */
export async function siteViewStatus(site: Site, opts: GatherOptions = {}): Promise<SiteReport> {
  const now = opts.now ?? new Date();
  const view = await scanMachine(site, opts);
  const local = new Set(view.backupServers.map((b) => b.server));
  const merger = new SiteMerger();
  const feeds = await gatherFeeds(site, local, { ...opts, now }, (row, from) => merger.add(row, from));
  return merger.report(site, feeds, now, view.root, view.identity);
}
