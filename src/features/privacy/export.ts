// A member's data export (/privacy export): once per EXPORT_COOLDOWN_MS per member (a row in data_exports, so
// the limit holds across restarts and every process of a fleet), built as a ZIP streamed to a temp file, then
// either handed to the caller to attach or stored under exports/<uuid>.zip behind a signed link that expires;
// the sweep removes expired ZIPs and rows.

import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { DataStore } from "../../db/data-store.ts";
import type { FileStore } from "../../files/file-store.ts";
import type { LinkSigner } from "../../files/signed-links.ts";
import type { Clock } from "../../kit/clock.ts";
import { UserFacingError } from "../../kit/errors.ts";
import { t } from "../../kit/i18n.ts";
import { isUuid, newId } from "../../kit/ids.ts";
import type { Logger } from "../../kit/logger.ts";
import type { ServableFile } from "../references/reference-service.ts";
import { writeExportArchive } from "./export-archive.ts";
import { EXPORT_MAX_BYTES, EXPORT_MAX_FILES, exportContents } from "./export-data.ts";

/** One export per member in this window, whatever its outcome (an unexpected failure gives it back). */
export const EXPORT_COOLDOWN_MS = 10 * 60 * 1000;
/** How long a download link (and the stored ZIP) lives, at most; shorter when LINK_TTL_SECONDS is. */
export const EXPORT_LINK_TTL_MS = 24 * 60 * 60 * 1000;
/** Exports this process builds at once: each reads every file of a member and writes them to disk. */
export const MAX_EXPORTS_BUILDING = 2;
const SWEEP_EVERY_MS = 10 * 60 * 1000;
/** A stored ZIP no row names (a row lost with its database) is removed once this old. */
const ORPHAN_GRACE_MS = 60 * 60 * 1000;

/** What the export holds, for the answer. */
export interface ExportSummary {
  bytes: number;
  files: number;
  /** Files the caps left out. */
  omitted: number;
  maxFiles: number;
  maxBytes: number;
}

/** What became of an export request; `attachment`'s file exists only while the `deliver` callback runs. */
export type ExportOutcome =
  | { kind: "too_soon"; retryAt: number }
  | { kind: "busy" }
  | ({ kind: "attachment"; path: string } & ExportSummary)
  | ({ kind: "link"; url: string; expiresAt: number } & ExportSummary)
  | ({ kind: "too_large"; limit: number } & ExportSummary);

export interface PrivacyExportDeps {
  data: DataStore;
  files: FileStore;
  links: LinkSigner;
  clock: Clock;
  logger: Logger;
  /** The most files and bytes of them one export carries; EXPORT_MAX_FILES and EXPORT_MAX_BYTES by default. */
  caps?: { maxFiles: number; maxBytes: number };
}

export class PrivacyExportService {
  private building = 0;
  private timer: ReturnType<typeof setInterval> | undefined;

  constructor(private readonly deps: PrivacyExportDeps) {}

  /**
   * Builds the member's export and hands the outcome to `deliver`: attached when the ZIP is at most
   * `uploadLimit` bytes, else behind a signed link (with PUBLIC_URL), else `too_large`. The temp file is
   * removed once `deliver` is done; a failure before `deliver` gives the member's window back.
   */
  async run(userId: string, uploadLimit: number, deliver: (outcome: ExportOutcome) => Promise<void>) {
    if (this.building >= MAX_EXPORTS_BUILDING) return deliver({ kind: "busy" });
    // Counted before the first await, so requests arriving together cannot build more than the cap, and given
    // back whatever fails.
    this.building++;
    try {
      const claim = await this.claim(userId);
      if (!claim.ok) return await deliver({ kind: "too_soon", retryAt: claim.retryAt });
      await this.buildAndDeliver(userId, claim.id, uploadLimit, deliver);
    } finally {
      this.building--;
    }
  }

  private async buildAndDeliver(
    userId: string,
    claimId: string,
    uploadLimit: number,
    deliver: (outcome: ExportOutcome) => Promise<void>,
  ): Promise<void> {
    let dir: string | undefined;
    let outcome: ExportOutcome;
    try {
      dir = await mkdtemp(join(tmpdir(), "crbot-export-"));
      outcome = await this.build(userId, claimId, join(dir, "export.zip"), uploadLimit);
    } catch (err) {
      await this.release(claimId);
      if (dir) await rm(dir, { recursive: true, force: true });
      throw err;
    }
    try {
      await deliver(outcome);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  /** Records the export's start, unless the member made one within the window. */
  private claim(userId: string): Promise<{ ok: true; id: string } | { ok: false; retryAt: number }> {
    const now = this.deps.clock.now();
    return this.deps.data.transaction(
      async (repos) => {
        const last = await repos.dataExports.latestSince(userId, now - EXPORT_COOLDOWN_MS);
        if (last) return { ok: false as const, retryAt: Number(last.createdAt) + EXPORT_COOLDOWN_MS };
        const id = newId();
        const expiresAt = now + EXPORT_COOLDOWN_MS;
        await repos.dataExports.insert({
          id,
          userId,
          fileName: null,
          bytes: null,
          createdAt: now,
          expiresAt,
        });
        return { ok: true as const, id };
      },
      { locks: [`export:${userId}`] },
    );
  }

  private async build(userId: string, id: string, path: string, uploadLimit: number): Promise<ExportOutcome> {
    const { files, links, clock, data } = this.deps;
    const now = clock.now();
    const caps = this.deps.caps ?? { maxFiles: EXPORT_MAX_FILES, maxBytes: EXPORT_MAX_BYTES };
    const contents = await exportContents(data.repos.memberData, userId, now, caps);
    const zip = await writeExportArchive(files, contents, path, new Date(now));
    const summary: ExportSummary = {
      bytes: zip.bytes,
      files: contents.files.length,
      omitted: contents.omitted,
      ...caps,
    };
    if (zip.bytes <= uploadLimit) return { kind: "attachment", path, ...summary };
    if (!links.enabled) return { kind: "too_large", limit: uploadLimit, ...summary };
    const link = await links.sign(id, now, { atMostMs: EXPORT_LINK_TTL_MS });
    if (!link) return { kind: "too_large", limit: uploadLimit, ...summary };
    const fileName = `${id}.zip`;
    // Named in the row before it is stored: the sweep then removes it with its row whatever happens next.
    const named = await data.repos.dataExports.attachFile(
      id,
      fileName,
      zip.bytes,
      Math.max(link.expiresAt, now + EXPORT_COOLDOWN_MS),
    );
    // An erasure removed the row while the ZIP was being made: nothing of the erased data is stored.
    if (!named) throw new UserFacingError(t("privacy:export.erasedMeanwhile"));
    await files.writeExport(fileName, path, { bytes: zip.bytes, sha256: zip.sha256 });
    return { kind: "link", url: link.url, expiresAt: link.expiresAt, ...summary };
  }

  /** Gives a failed export's window back, and removes whatever it stored. */
  private async release(id: string): Promise<void> {
    try {
      const row = await this.deps.data.repos.dataExports.get(id);
      if (row?.fileName) await this.deps.files.remove(row.fileName);
      await this.deps.data.repos.dataExports.remove(id);
    } catch (err) {
      this.deps.logger.warn({ err, exportId: id }, "could not release a failed data export; the sweep will");
    }
  }

  /** A stored export for the signed-link route, while its link is valid; undefined otherwise. */
  async servableFile(id: string): Promise<ServableFile | undefined> {
    if (!isUuid(id)) return undefined;
    const row = await this.deps.data.repos.dataExports.get(id);
    if (!row?.fileName || row.bytes === null || Number(row.expiresAt) <= this.deps.clock.now())
      return undefined;
    return { fileName: row.fileName, mime: "application/zip", bytes: Number(row.bytes) };
  }

  /** Removes expired exports (their ZIP, then their row) and stored ZIPs no row names; how many of each. */
  async sweep(): Promise<{ expired: number; orphans: number }> {
    const { files, clock, data } = this.deps;
    const now = clock.now();
    let expired = 0;
    for (const row of await data.repos.dataExports.expired(now, 1000)) {
      if (row.fileName) await files.remove(row.fileName);
      await data.repos.dataExports.remove(row.id);
      expired++;
    }
    const live = await data.repos.dataExports.liveFileNames();
    let orphans = 0;
    for await (const stored of files.storedExports()) {
      if (live.has(stored.fileName) || now - stored.modifiedAt < ORPHAN_GRACE_MS) continue;
      await files.remove(stored.fileName);
      orphans++;
    }
    return { expired, orphans };
  }

  /**
   * Sweeps now (after the leftovers of writes a crash cut short) and every SWEEP_EVERY_MS until `stop`; a failed
   * sweep is logged and tried again.
   */
  startSweeping(): void {
    if (this.timer) return;
    const sweep = () => {
      this.sweep().then(
        (swept) => {
          if (swept.expired + swept.orphans > 0) this.deps.logger.info(swept, "data exports swept");
        },
        (err: unknown) => this.deps.logger.warn({ err }, "could not sweep data exports; tried again later"),
      );
    };
    this.timer = setInterval(sweep, SWEEP_EVERY_MS);
    this.timer.unref();
    // At start nothing of this process writes yet: what a crash cut short of a stored ZIP goes first.
    this.deps.files.objects.removeIncomplete("exports/").then(sweep, (err: unknown) => {
      this.deps.logger.warn({ err }, "could not remove unfinished data exports");
      sweep();
    });
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }
}
