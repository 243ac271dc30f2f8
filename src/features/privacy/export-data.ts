// What a member's data export holds: data.json (their prompts, parameters, lineage, picks, library names and
// usage, in every server and DM) and the list of their stored images and videos to put beside it, within the
// export's caps.
import type { MemberDataRepo } from "../../db/repositories/member-data-repo.ts";

/** The most image and video files one export carries; data.json still lists every row. */
export const EXPORT_MAX_FILES = 500;
/** The most bytes of image and video files one export carries (1 GiB). */
export const EXPORT_MAX_BYTES = 1024 * 1024 * 1024;

/** One stored file to put in the ZIP: `path` inside the archive, `fileName` in the file store. */
export interface ExportFile {
  path: string;
  fileName: string;
  bytes: number;
}

export interface ExportContents {
  /** data.json's object. */
  data: Record<string, unknown>;
  files: ExportFile[];
  /** Files left out by the caps (data.json names them with `"file": null, "omitted": "cap"`). */
  omitted: number;
}

const iso = (ms: number | null) => (ms === null ? null : new Date(Number(ms)).toISOString());

function parsed(json: string): unknown {
  try {
    return JSON.parse(json);
  } catch {
    return json;
  }
}

interface Stored {
  id: string;
  fileName: string | null;
  bytes: number | null;
  status: string;
  deletedAt: number | null;
  createdAt: number;
}

/** Which stored files fit the caps, newest first: a map of id → path in the archive. */
function chooseFiles(
  rows: ReadonlyArray<Stored & { folder: string }>,
  limits: { maxFiles: number; maxBytes: number },
) {
  const files: ExportFile[] = [];
  const chosen = new Map<string, string>();
  let total = 0;
  let omitted = 0;
  const stored = rows
    .filter((r) => r.fileName && r.status === "succeeded" && r.deletedAt === null)
    .sort((a, b) => Number(b.createdAt) - Number(a.createdAt));
  for (const row of stored) {
    const bytes = Number(row.bytes ?? 0);
    if (files.length >= limits.maxFiles || total + bytes > limits.maxBytes) {
      omitted++;
      continue;
    }
    const path = `${row.folder}/${row.fileName}`;
    files.push({ path, fileName: row.fileName as string, bytes });
    chosen.set(row.id, path);
    total += bytes;
  }
  return { files, chosen, omitted };
}

type MemberRows = {
  [K in "generations" | "images" | "videos" | "selections" | "libraryNames" | "usage"]: Awaited<
    ReturnType<MemberDataRepo[K]>
  >;
};

/** What the member's export holds, read from the database; `now` dates it. */
export async function exportContents(
  repo: MemberDataRepo,
  userId: string,
  now: number,
  limits = { maxFiles: EXPORT_MAX_FILES, maxBytes: EXPORT_MAX_BYTES },
): Promise<ExportContents> {
  const [generations, images, videos, selections, libraryNames, usage] = await Promise.all([
    repo.generations(userId),
    repo.images(userId),
    repo.videos(userId),
    repo.selections(userId),
    repo.libraryNames(userId),
    repo.usage(userId),
  ]);
  const rows: MemberRows = { generations, images, videos, selections, libraryNames, usage };
  const { files, chosen, omitted } = chooseFiles(
    [...images.map((i) => ({ ...i, folder: "images" })), ...videos.map((v) => ({ ...v, folder: "videos" }))],
    limits,
  );
  const header = {
    format: "character-reference-bot data export, version 1",
    userId,
    exportedAt: iso(now),
    caps: { maxFiles: limits.maxFiles, maxBytes: limits.maxBytes, filesOmitted: omitted },
  };
  return { data: { ...header, ...dataJson(rows, chosen, userId) }, files, omitted };
}

/** data.json's lists: every row as stored (times as ISO 8601), each file with its path in the archive. */
function dataJson(rows: MemberRows, chosen: ReadonlyMap<string, string>, userId: string) {
  const fileOf = (row: Stored) => {
    const path = chosen.get(row.id);
    if (path) return { file: path };
    const stored = row.fileName && row.status === "succeeded" && row.deletedAt === null;
    return { file: null, ...(stored ? { omitted: "cap" } : {}) };
  };
  const namesOf = (imageId: string) =>
    rows.libraryNames
      .filter((l) => l.imageId === imageId)
      // A curator's id and note are theirs, not the member's: shown only for entries the member added.
      .map((l) => ({
        guildId: l.guildId,
        name: l.name,
        ...(l.addedBy === userId ? { note: l.note, addedBy: l.addedBy } : {}),
        addedAt: iso(l.createdAt),
      }));
  return {
    generations: rows.generations.map((g) => ({
      ...g,
      params: parsed(g.params),
      createdAt: iso(g.createdAt),
      finishedAt: iso(g.finishedAt),
    })),
    images: rows.images.map(({ fileName: _, ...i }) => ({
      ...i,
      ...fileOf({ ...i, fileName: _ }),
      bytes: i.bytes === null ? null : Number(i.bytes),
      createdAt: iso(i.createdAt),
      deletedAt: iso(i.deletedAt),
      libraryNames: namesOf(i.id),
    })),
    videos: rows.videos.map(({ fileName: _, ...v }) => ({
      ...v,
      ...fileOf({ ...v, fileName: _ }),
      params: parsed(v.params),
      bytes: v.bytes === null ? null : Number(v.bytes),
      createdAt: iso(v.createdAt),
      deletedAt: iso(v.deletedAt),
    })),
    picks: rows.selections.map((s) => ({ ...s, selectedAt: iso(s.selectedAt) })),
    libraryNames: rows.libraryNames.map((l) => ({ ...l, createdAt: iso(l.createdAt) })),
    usage: rows.usage.map((u) => ({ ...u, createdAt: iso(u.createdAt) })),
  };
}
