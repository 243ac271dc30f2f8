// The tables as Kysely sees them: one interface for both engines. Columns are snake_case in SQL and camelCase
// here (Kysely's CamelCasePlugin maps them). Times are epoch milliseconds; JSON columns hold text.
import type { Generated } from "kysely";

type Job = "pending" | "running" | "succeeded" | "failed";

export interface GenerationsTable {
  id: string;
  guildId: string | null;
  channelId: string | null;
  userId: string;
  interactionId: string | null;
  interactionToken: string | null;
  applicationId: string | null;
  messageId: string | null;
  prompt: string;
  /** JSON: GenerationParams. */
  params: string;
  model: string;
  requested: number;
  status: "running" | "succeeded" | "partial" | "failed";
  createdAt: number;
  finishedAt: number | null;
  deliveredAt: number | null;
  /** 'interaction': the bot may post only through the interaction's token (not a member of that place). */
  delivery: "channel" | "interaction";
  /** When the result finished after the interaction's token expired (interaction delivery): kept, not posted. */
  deliveredLaterAt: number | null;
  /** When the member was told of that result on their next use of the bot. */
  laterNoticeAt: number | null;
  /** The image this generation was drawn from (a variation, or a scene of a reference); null for a new one. */
  parentImageId: string | null;
  /**
   * Where the parent image was uploaded for the model before generation_references kept one per reference
   * (migration 0015 copied it there); no longer written.
   */
  referenceUrl: string | null;
  /** The member's language (Discord locale as the bot speaks it); null: English. */
  locale: string | null;
  /** The channel's language: the server's, or the member's outside a server; null: English. */
  publicLocale: string | null;
}

/** One image a generation was drawn from, at its place (1…) among the model's image inputs. */
export interface GenerationReferencesTable {
  generationId: string;
  position: number;
  imageId: string;
  /** Where the image was uploaded for the model, when no signed link was used; cleared once it is deleted. */
  referenceUrl: string | null;
}

export interface ImagesTable {
  id: string;
  generationId: string;
  slot: number;
  status: Job;
  model: string | null;
  predictionId: string | null;
  fileName: string | null;
  mime: string | null;
  bytes: number | null;
  width: number | null;
  height: number | null;
  sha256: string | null;
  errorCode: string | null;
  errorMessage: string | null;
  createdAt: number;
  finishedAt: number | null;
  deletedAt: number | null;
  /** Who deleted it: its owner, or a moderator. */
  deletedBy: string | null;
  /** When a prediction create was about to be sent (JobRows); null while none was. */
  createSentAt: number | null;
  /** The prediction's own running time as the provider reported it (ms); null when it did not. */
  predictMs: number | null;
}

export interface SelectionsTable {
  id: Generated<number>;
  guildId: string | null;
  userId: string;
  imageId: string;
  generationId: string;
  selectedAt: number;
  interactionId: string | null;
}

export interface VideosTable {
  id: string;
  referenceImageId: string;
  generationId: string;
  guildId: string | null;
  channelId: string | null;
  userId: string;
  prompt: string;
  model: string;
  params: string;
  status: Job;
  predictionId: string | null;
  fileName: string | null;
  mime: string | null;
  bytes: number | null;
  sha256: string | null;
  /** The provider's own URL of the output, kept for a video too large to upload (Replicate keeps it an hour). */
  outputUrl: string | null;
  errorCode: string | null;
  errorMessage: string | null;
  interactionId: string | null;
  interactionToken: string | null;
  applicationId: string | null;
  messageId: string | null;
  createdAt: number;
  finishedAt: number | null;
  deliveredAt: number | null;
  /** 'interaction': the bot may post only through the interaction's token (not a member of that place). */
  delivery: "channel" | "interaction";
  /** When the result finished after the interaction's token expired (interaction delivery): kept, not posted. */
  deliveredLaterAt: number | null;
  /** When the member was told of that result on their next use of the bot. */
  laterNoticeAt: number | null;
  /** Set when the video's reference was deleted: the video is removed with it. */
  deletedAt: number | null;
  deletedBy: string | null;
  /** When a prediction create was about to be sent (JobRows); null while none was. */
  createSentAt: number | null;
  /** The member's language; null: English. */
  locale: string | null;
  /** The channel's language; null: English. */
  publicLocale: string | null;
}

export interface GuildSettingsTable {
  guildId: string;
  dailyImagesPerUser: number | null;
  dailyImagesPerGuild: number | null;
  dailyVideosPerUser: number | null;
  dailyVideosPerGuild: number | null;
  /** JSON: string[]. */
  blocklist: string;
  safetyFilterLevel: string | null;
  modLogChannelId: string | null;
  /** Members with this role may curate the library, as members with Manage Messages may. */
  curatorRoleId: string | null;
  updatedAt: number | null;
  updatedBy: string | null;
}

export interface LibraryEntriesTable {
  id: string;
  guildId: string;
  /** As the curator typed it. */
  name: string;
  /** The name lower-cased: what uniqueness and look-ups compare. */
  nameKey: string;
  imageId: string;
  note: string | null;
  addedBy: string;
  createdAt: number;
  /** The gallery's preview, `<uuid>.thumb.jpg`; null until made (entries added before previews were stored). */
  thumbnailFile: string | null;
}

export interface UsageLedgerTable {
  id: Generated<number>;
  day: string;
  guildId: string | null;
  userId: string;
  kind: "image" | "video";
  units: number;
  jobId: string;
  model: string;
  /** A video's length: its cost is its model's price per second times this (null: images, older videos). */
  seconds: number | null;
  createdAt: number;
}

export interface AuditLogTable {
  id: Generated<number>;
  guildId: string | null;
  actorId: string;
  action: string;
  targetUserId: string | null;
  targetId: string | null;
  /** JSON object. */
  details: string;
  createdAt: number;
  /** How many times it happened: repeats within a minute (blocked prompts) count here instead of new rows. */
  occurrences: Generated<number>;
}

export interface PendingDeletionsTable {
  fileName: string;
  scheduledAt: number;
}

export interface PendingMessageEditsTable {
  kind: "grid" | "video";
  jobId: string;
  scheduledAt: number;
}

export interface WebhookDeliveriesTable {
  /** The delivery's webhook-id header. */
  id: string;
  seenAt: number;
}

/** A /privacy delete: the journal that lets a crash midway be finished, and the once-an-hour limit. */
export interface ErasuresTable {
  id: string;
  /** The member's pseudonym (HMAC of their id under the install's key): what the hourly limit looks up. */
  subject: string;
  /** The member's id, only while the erasure is unfinished. */
  userId: string | null;
  requestedAt: number;
  finishedAt: number | null;
  /** JSON: ErasureWork (uploads to delete, predictions to cancel); emptied when finished. */
  work: string;
  /** JSON: ErasureCounts. */
  counts: string;
}

/** A server the bot was removed from: its data goes at purgeAt unless the bot is added back before. */
export interface GuildDeparturesTable {
  guildId: string;
  leftAt: number;
  purgeAt: number;
}

/** A member's data export (/privacy export); see migration 0018. */
export interface DataExportsTable {
  id: string;
  userId: string;
  /** `<uuid>.zip` while a download link's ZIP is stored; null for an export sent as an attachment. */
  fileName: string | null;
  bytes: number | null;
  createdAt: number;
  /** When the row (and its ZIP) may be removed: the link's expiry, or the end of the export's rate window. */
  expiresAt: number;
}

export interface MetaTable {
  key: string;
  value: string;
}

export interface SchemaMigrationsTable {
  version: number;
  name: string;
  appliedAt: number;
}

export interface Tables {
  generations: GenerationsTable;
  generationReferences: GenerationReferencesTable;
  images: ImagesTable;
  selections: SelectionsTable;
  videos: VideosTable;
  guildSettings: GuildSettingsTable;
  libraryEntries: LibraryEntriesTable;
  usageLedger: UsageLedgerTable;
  auditLog: AuditLogTable;
  pendingDeletions: PendingDeletionsTable;
  pendingMessageEdits: PendingMessageEditsTable;
  webhookDeliveries: WebhookDeliveriesTable;
  erasures: ErasuresTable;
  guildDepartures: GuildDeparturesTable;
  dataExports: DataExportsTable;
  meta: MetaTable;
  schemaMigrations: SchemaMigrationsTable;
}
