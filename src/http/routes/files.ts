// GET /files/<uuid>?exp=…&sig=…: signed links to stored images, videos and data exports (see
// files/signed-links.ts). The signature is checked before anything is looked up, so an unsigned request learns
// nothing, not even whether the id exists; a signed link to something deleted (or expired) since answers 404.
//
// The file is streamed from the store, and a Range asks the store for just those bytes: a 100-MB video is never
// held in memory, however many requests there are. HEAD answers from the row without opening the file.
import type { Readable } from "node:stream";
import type { FastifyReply, FastifyRequest } from "fastify";
import rangeParser from "range-parser";
import type { AppContext } from "../../features/context.ts";
import type { ServableFile } from "../../features/references/reference-service.ts";
import { type ByteRange, ObjectNotFoundError } from "../../files/object-store.ts";
import { StorageUnavailableError } from "../../kit/errors.ts";
import { isUuid } from "../../kit/ids.ts";
import type { RouteGroup } from "../route-group.ts";

interface FileQuery {
  exp?: unknown;
  sig?: unknown;
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

/** A request for a file: its id in the path, the link's expiry and signature in the query. */
type FileRequest = FastifyRequest<{ Params: { id: string }; Querystring: FileQuery }>;

export const fileRoutes: RouteGroup = (app, { ctx }) => {
  // GET and HEAD as one route: Fastify's own HEAD route would answer Content-Length: 0 to a HEAD with no body.
  app.route<{ Params: { id: string }; Querystring: FileQuery }>({
    method: ["GET", "HEAD"],
    url: "/files/:id",
    handler: async (request, reply) => {
      try {
        return await serveFile(ctx, request, reply);
      } catch (err) {
        return failed(ctx, reply, err, request.params.id);
      }
    },
  });
};

/** Checks the link, then answers with the file (or the range asked for), or with why not. */
async function serveFile(ctx: AppContext, request: FileRequest, reply: FastifyReply): Promise<FastifyReply> {
  const { id } = request.params;
  if (!isUuid(id)) return refuse(reply, 404, "not found");
  const now = ctx.clock.now();
  const { exp, sig } = request.query;
  if (!(await ctx.links.verify(id, exp, sig, now))) {
    return refuse(reply, 403, "this link is not valid or has expired");
  }
  // An image or video, or a member's data export while its link lives (the ZIP is removed after).
  const file = (await ctx.references.servableFile(id)) ?? (await ctx.privacyExports.servableFile(id));
  if (!file) return refuse(reply, 404, "not found");
  const range = requestedRange(file.bytes, request.headers.range);
  if (range === "unsatisfiable") {
    reply.header("Content-Range", `bytes */${file.bytes}`).header("Accept-Ranges", "bytes");
    return refuse(reply, 416);
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
    .header("Content-Length", range ? range.end - range.start + 1 : file.bytes);
  if (range) reply.header("Content-Range", `bytes ${range.start}-${range.end}/${file.bytes}`);
  // A data export is saved, not shown: a browser downloads it under a name that says what it is.
  if (file.mime === "application/zip")
    reply.header("Content-Disposition", 'attachment; filename="my-data.zip"');
  return body === undefined ? reply.send() : reply.send(body);
}

/**
 * The one byte range a Range header asks for; undefined for the whole file (no header, a malformed one, another
 * unit or several ranges, as RFC 9110 allows), "unsatisfiable" when it lies past the end.
 */
function requestedRange(size: number, header: string | undefined): ByteRange | undefined | "unsatisfiable" {
  if (header === undefined) return undefined;
  const ranges = rangeParser(size, header, { combine: true });
  if (ranges === -1) return "unsatisfiable";
  if (ranges === -2 || ranges.type !== "bytes" || ranges.length !== 1) return undefined;
  const { start, end } = ranges[0] as rangeParser.Range;
  return { start, end };
}

/** A failure while serving: logged with the id, answered without the error's own text. */
function failed(ctx: AppContext, reply: FastifyReply, err: unknown, id: string): FastifyReply {
  // Never the error's own text: it can name hosts, paths and queries.
  if (err instanceof StorageUnavailableError) {
    ctx.logger.warn({ err, id }, "a signed link could not be served: storage is unavailable");
    return refuse(reply, 503, "storage unavailable");
  }
  ctx.logger.error({ err, id }, "a signed link failed");
  return refuse(reply, 500, "internal error");
}

/**
 * A stream of the file (or of `range` of it), or null when the store has no such file. A read that fails once
 * the answer has begun can only cut the answer short; it is logged.
 */
async function open(
  ctx: AppContext,
  id: string,
  file: ServableFile,
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
