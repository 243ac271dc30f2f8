// At start, before any job runs: finish the deletions a crash interrupted, then remove the files no row stands
// for (orphans) and the temp files of writes a crash cut short.
import type { Logger } from "../domain/logger.ts";
import { type FileStore, InvalidFileIdError } from "./file-store.ts";
import type { ImagesRepo } from "./images-repo.ts";
import type { PendingDeletionsRepo } from "./pending-deletions-repo.ts";
import type { VideosRepo } from "./videos-repo.ts";

export interface RecoveryDeps {
  files: FileStore;
  pendingDeletions: PendingDeletionsRepo;
  images: ImagesRepo;
  videos: VideosRepo;
  logger: Logger;
}

export interface RecoveryReport {
  /** Deletions scheduled before a crash and finished now. */
  finished: number;
  /** Files that no live row names. */
  orphans: number;
  temp: number;
}

export function recoverFileStore(deps: RecoveryDeps): RecoveryReport {
  const { files, pendingDeletions, logger } = deps;
  let finished = 0;
  for (const fileName of pendingDeletions.all()) {
    try {
      files.removeSync(fileName);
      pendingDeletions.clear(fileName);
      finished++;
    } catch (err) {
      if (err instanceof InvalidFileIdError) {
        // Not a name the store could have written: nothing on disk to remove.
        logger.warn({ err }, "pending deletion names no stored file; dropped");
        pendingDeletions.clear(fileName);
      } else {
        logger.error(
          { err, fileName },
          "could not finish a pending deletion; it is tried again at the next start",
        );
      }
    }
  }
  const live = new Set([...deps.images.liveFileNames(), ...deps.videos.liveFileNames()]);
  const swept = files.sweep((name) => live.has(name));
  const report = { finished, orphans: swept.orphans.length, temp: swept.temp };
  if (swept.failed.length > 0) logger.error({ files: swept.failed }, "could not remove files in the sweep");
  if (finished + report.orphans + report.temp > 0) {
    logger.info({ ...report, orphanFiles: swept.orphans.slice(0, 20) }, "file store recovered");
  }
  return report;
}
