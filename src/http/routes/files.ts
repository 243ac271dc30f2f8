// GET /files/<uuid>?exp=…&sig=…: signed links to stored images and videos (see services/links.ts). The
// signature is checked before anything is looked up, so an unsigned request learns nothing, not even whether
// the id exists; a signed link to something deleted since answers 404.
//
// The file is streamed from the store, and a Range asks the store for just those bytes: a 100-MB video is never
// held in memory, however many requests there are. HEAD answers from the row without opening the file.
import type { Readable } from "node:stream";
import type { FastifyReply } from "fastify";
import rangeParser from "range-parser";
import type { AppContext } from "../../features/context.ts";
import { type ByteRange, ObjectNotFoundError } from "../../files/object-store.ts";
import { StorageUnavailableError } from "../../kit/errors.ts";
import { isUuid } from "../../kit/ids.ts";
import type { RouteGroup } from "../route-group.ts";

interface FileQuery {
  exp?: unknown;
  sig?: unknown;
}

/** What a link may serve: a live, finished image or video with a stored file. */
interface Servable {
  fileName: string;
  mime: string;
  /** The file's size, from its row (or the store, for a row without one). */
  bytes: number;
}

/**
 * The longest a browser or proxy may keep a copy, in seconds (never beyond the link's expiry): a file deleted
 * since is then served from a cache for at most this long.
 */
export const MAX_CACHE_SECONDS = 300;

/** An answer that is not the file: nothing may cache it, and it carries none of the file's headers. */
function refuse(reply: FastifyReply, status: number, error?: string): FastifyReply {
  reply.code(status).header("Cache-Control", "no-store").header("X-Content-Type-Options", "nosniff");
  return error === undefined ? reply.send() : reply.send({ error });
}

export const fileRoutes: RouteGroup = (app, { ctx }) => {
  // GET and HEAD as one route: Fastify's own HEAD route would answer Content-Length: 0 to a HEAD with no body.
  app.route<{ Params: { id: string }; Querystring: FileQuery }>({
    method: ["GET", "HEAD"],
    url: "/files/:id",
    handler: async (request, reply) => {
      const { id } = request.params;
      try {
        if (!isUuid(id)) return refuse(reply, 404, "not found");
        const now = ctx.clock.now();
        const { exp, sig } = request.query;
        if (!(await ctx.links.verify(id, exp, sig, now))) {
          return refuse(reply, 403, "this link is not valid or has expired");
        }
        const file = await servable(ctx, id);
        if (!file) return refuse(reply, 404, "not found");

        const size = file.bytes;
        let range: ByteRange | undefined;
        const header = request.headers.range;
        if (header !== undefined) {
          const ranges = rangeParser(size, header, { combine: true });
          if (ranges === -1) {
            reply.header("Content-Range", `bytes */${size}`).header("Accept-Ranges", "bytes");
            return refuse(reply, 416);
          }
          // A malformed header (-2), another unit or several ranges: the whole file, as RFC 9110 allows.
          if (ranges !== -2 && ranges.type === "bytes" && ranges.length === 1) {
            const { start, end } = ranges[0] as rangeParser.Range;
            range = { start, end };
          }
        }

        // HEAD: the headers a GET would send, without opening the file.
        const body = request.method === "HEAD" ? undefined : await open(ctx, id, file, range);
        if (body === null) return refuse(reply, 404, "not found");
        const secondsLeft = Math.max(0, Number(exp) - Math.floor(now / 1000));
        reply
          .code(range ? 206 : 200)
          .header("Content-Type", file.mime)
          .header("Cache-Control", `private, max-age=${Math.min(MAX_CACHE_SECONDS, secondsLeft)}`)
          .header("Accept-Ranges", "bytes")
          .header("X-Content-Type-Options", "nosniff")
          .header("Content-Length", range ? range.end - range.start + 1 : size);
        if (range) reply.header("Content-Range", `bytes ${range.start}-${range.end}/${size}`);
        return body === undefined ? reply.send() : reply.send(body);
      } catch (err) {
        // Never the error's own text: it can name hosts, paths and queries.
        if (err instanceof StorageUnavailableError) {
          ctx.logger.warn({ err, id }, "a signed link could not be served: storage is unavailable");
          return refuse(reply, 503, "storage unavailable");
        }
        ctx.logger.error({ err, id }, "a signed link failed");
        return refuse(reply, 500, "internal error");
      }
    },
  });
};

/**
 * A stream of the file (or of `range` of it), or null when the store has no such file. A read that fails once
 * the answer has begun can only cut the answer short; it is logged.
 */
async function open(
  ctx: AppContext,
  id: string,
  file: Servable,
  range: ByteRange | undefined,
): Promise<Readable | null> {
  let stream: Readable;
  try {
    stream = await ctx.files.stream(file.fileName, range);
  } catch (err) {
    if (err instanceof ObjectNotFoundError) return null;
    throw err;
  }
  stream.once("error", (err) => {
    ctx.logger.warn({ err, id }, "a signed link's file could not be read to its end");
  });
  return stream;
}

/** The stored file of image or video `id`, when it is one that may be served. */
async function servable(ctx: AppContext, id: string): Promise<Servable | undefined> {
  const row = (await ctx.repos.images.get(id)) ?? (await ctx.repos.videos.get(id));
  if (!row || row.deletedAt !== null || row.status !== "succeeded" || !row.fileName || !row.mime) {
    return undefined;
  }
  const bytes = row.bytes ?? (await ctx.files.size(row.fileName));
  if (bytes === undefined) return undefined;
  return { fileName: row.fileName, mime: row.mime, bytes };
}
