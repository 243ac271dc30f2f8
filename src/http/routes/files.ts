// GET /files/<uuid>?exp=…&sig=…: signed links to stored images and videos (see services/links.ts). The
// signature is checked before anything is looked up, so an unsigned request learns nothing, not even whether
// the id exists; a signed link to something deleted since answers 404.
import rangeParser from "range-parser";
import { StorageUnavailableError } from "../../domain/errors.ts";
import { isUuid } from "../../domain/ids.ts";
import type { AppContext } from "../../services/context.ts";
import { ObjectNotFoundError } from "../../storage/object-store.ts";
import type { RouteGroup } from "../server.ts";

interface FileQuery {
  exp?: unknown;
  sig?: unknown;
}

/** What a link may serve: a live, finished image or video with a stored file. */
interface Servable {
  fileName: string;
  mime: string;
}

export const fileRoutes: RouteGroup = (app, { ctx }) => {
  app.get<{ Params: { id: string }; Querystring: FileQuery }>("/files/:id", async (request, reply) => {
    const { id } = request.params;
    if (!isUuid(id)) return reply.code(404).send({ error: "not found" });
    const now = ctx.clock.now();
    const { exp, sig } = request.query;
    if (!(await ctx.links.verify(id, exp, sig, now))) {
      return reply.code(403).send({ error: "this link is not valid or has expired" });
    }
    const file = await servable(ctx, id);
    if (!file) return reply.code(404).send({ error: "not found" });
    let data: Buffer;
    try {
      data = await ctx.files.read(file.fileName);
    } catch (err) {
      if (err instanceof ObjectNotFoundError) return reply.code(404).send({ error: "not found" });
      if (err instanceof StorageUnavailableError) {
        ctx.logger.warn({ err, id }, "a signed link could not read its file");
        return reply.code(503).send({ error: "storage is unavailable; try again shortly" });
      }
      throw err;
    }
    const secondsLeft = Math.max(0, Number(exp) - Math.floor(now / 1000));
    reply
      .header("Content-Type", file.mime)
      .header("Cache-Control", `private, max-age=${secondsLeft}`)
      .header("Accept-Ranges", "bytes")
      .header("X-Content-Type-Options", "nosniff");
    const range = request.headers.range;
    if (range !== undefined) {
      const ranges = rangeParser(data.length, range, { combine: true });
      if (ranges === -1) {
        return reply.code(416).header("Content-Range", `bytes */${data.length}`).send();
      }
      // A malformed header (-2), another unit or several ranges: the whole file, as RFC 9110 allows.
      if (ranges !== -2 && ranges.type === "bytes" && ranges.length === 1) {
        const { start, end } = ranges[0] as rangeParser.Range;
        const slice = data.subarray(start, end + 1);
        return reply
          .code(206)
          .header("Content-Range", `bytes ${start}-${end}/${data.length}`)
          .header("Content-Length", slice.length)
          .send(slice);
      }
    }
    return reply.code(200).header("Content-Length", data.length).send(data);
  });
};

/** The stored file of image or video `id`, when it is one that may be served. */
async function servable(ctx: AppContext, id: string): Promise<Servable | undefined> {
  const row = (await ctx.repos.images.get(id)) ?? (await ctx.repos.videos.get(id));
  if (!row || row.deletedAt !== null || row.status !== "succeeded" || !row.fileName || !row.mime) {
    return undefined;
  }
  return { fileName: row.fileName, mime: row.mime };
}
