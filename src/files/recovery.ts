// At start, before any job runs: finish the deletions a crash interrupted, then remove the files no row stands
// for (orphans) and the leftovers of writes a crash cut short. Async, because the store may be S3: startBot
// (src/app/gateway.ts) awaits it before logging in, so no job can write while it runs.

import type { Repos } from "../db/repos.ts";
import type { Clock } from "../kit/clock.ts";
import type { Logger } from "../kit/logger.ts";
import { type FileStore, InvalidFileIdError, type SweepReport } from "./file-store.ts";

export interface RecoveryDeps {
  files: FileStore;
  repos: Repos;
  clock: Clock;
  logger: Logger;
}

export interface RecoveryReport {
  /** Deletions scheduled before a crash and finished now. */
  finished: number;
  /** Files that no live row names, removed. */
  orphans: number;
  temp: number;
  /** Files that no live row names, kept because another process may be about to commit their rows. */
  young: number;
}

export async function recoverFileStore(deps: RecoveryDeps): Promise<RecoveryReport> {
  const { files, logger } = deps;
  const { pendingDeletions, images, videos, library, meta } = deps.repos;
  let finished = 0;
  for (const fileName of await pendingDeletions.all()) {
    try {
      await files.remove(fileName);
      await pendingDeletions.clear(fileName);
      finished++;
    } catch (err) {
      if (err instanceof InvalidFileIdError) {
        // Not a name the store could have written: nothing stored to remove.
        logger.warn({ err }, "pending deletion names no stored file; dropped");
        await pendingDeletions.clear(fileName);
      } else {
        logger.error(
          { err, fileName },
          "could not finish a pending deletion; it is tried again at the next start",
        );
      }
    }
  }
  const live = new Set([
    ...(await images.liveFileNames()),
    ...(await videos.liveFileNames()),
    ...(await library.liveThumbnailNames()),
  ]);
  let swept: SweepReport = { orphans: [], temp: 0, young: 0, failed: [] };
  try {
    if (await files.owns(await meta.installId())) {
      swept = await files.sweep((name) => live.has(name), deps.clock.now());
    } else {
      logger.warn(
        { store: files.objects.description },
        "the store holds another database's files (give each bot its own STORAGE_URL prefix); not sweeping it",
      );
    }
  } catch (err) {
    // Orphans cost only space: the bot starts anyway, and the next start sweeps again.
    logger.error({ err, store: files.objects.description }, "could not sweep the file store");
  }
  const report = { finished, orphans: swept.orphans.length, temp: swept.temp, young: swept.young };
  if (swept.failed.length > 0) logger.error({ files: swept.failed }, "could not remove files in the sweep");
  if (finished + report.orphans + report.temp + report.young > 0) {
    logger.info(
      { ...report, orphanFiles: swept.orphans.slice(0, 20), store: files.objects.description },
      "file store recovered",
    );
  }
  return report;
}
