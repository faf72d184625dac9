/** What a move of one app is: its place before and after. Written by lib/features/move/index.ts (diff), read by lib/features/move/record.ts. */

export interface AppPlace {
  server: string;
  vm: string;
  relpath: string;
  partition: string;
}

export interface AppMove {
  app: string;
  from: AppPlace;
  to: AppPlace;
  /** "rename": same server; "transfer": another server (rsync over SSH). */
  how: 'rename' | 'transfer';
  /** Human lines such as "vm: web -> intern". */
  changes: string[];
}
