// The links between members' rows an erasure cuts: lineage rows (generation_references) that name the member's
// images or generations, and others' videos whose params name one of the member's images (an end frame, a
// reference image). Used by ErasureScrub in the erasure's transaction.
import type { ExpressionBuilder } from "kysely";
import type { Executor } from "../database.ts";
import type { Tables } from "../schema.ts";

/** The member's generations' ids, as a subquery. */
export function ownGenerations(db: Executor, userId: string) {
  return db.selectFrom("generations").select("id").where("userId", "=", userId);
}

/** The member's images' ids (every slot of their generations), as a subquery. */
export function ownImages(db: Executor, userId: string) {
  return db.selectFrom("images").select("id").where("generationId", "in", ownGenerations(db, userId));
}

/**
 * Lineage rows (generation_references) of the member's generations and of others' generations drawn from
 * the member's images, with the uploads they recorded; others' generations forget those images in their params.
 */
export async function scrubLineage(
  db: Executor,
  userId: string,
): Promise<{ uploads: string[]; children: string[] }> {
  const mine = new Set((await ownImages(db, userId).execute()).map((i) => i.id));
  const touches = (eb: ExpressionBuilder<Tables, "generationReferences">) =>
    eb.or([eb("imageId", "in", ownImages(db, userId)), eb("generationId", "in", ownGenerations(db, userId))]);
  const rows = await db
    .selectFrom("generationReferences")
    .select(["generationId", "imageId", "referenceUrl"])
    .where(touches)
    .execute();
  await db.deleteFrom("generationReferences").where(touches).execute();
  const others = await db
    .selectFrom("generations")
    .select(["id", "params"])
    .where("id", "in", [...new Set(rows.map((r) => r.generationId)), ""])
    .where("userId", "<>", userId)
    .execute();
  for (const generation of others) {
    const params = JSON.parse(generation.params) as { referenceImageIds?: string[] };
    if (!params.referenceImageIds) continue;
    params.referenceImageIds = params.referenceImageIds.filter((id) => !mine.has(id));
    await db
      .updateTable("generations")
      .set({ params: JSON.stringify(params) })
      .where("id", "=", generation.id)
      .execute();
  }
  return {
    uploads: rows.flatMap((r) => (r.referenceUrl ? [r.referenceUrl] : [])),
    children: others.map((g) => g.id),
  };
}

/** Videos whose params name one of the member's images (an end frame, a reference image), in batches. */
export async function videosFramedBy(db: Executor, userId: string): Promise<string[]> {
  const images = await db
    .selectFrom("images")
    .select("id")
    .where("generationId", "in", ownGenerations(db, userId))
    .execute();
  const ids = images.map((i) => i.id).filter((id) => /^[0-9a-f-]{36}$/i.test(id));
  const found: string[] = [];
  for (let i = 0; i < ids.length; i += 100) {
    const batch = ids.slice(i, i + 100);
    const rows = await db
      .selectFrom("videos")
      .select("id")
      .where((eb) => eb.or(batch.map((id) => eb("params", "like", `%"${id}"%`))))
      .execute();
    found.push(...rows.map((r) => r.id));
  }
  return found;
}
