// Request bodies for the local server: read with a size cap, then parsed as JSON or as the multipart form
// (`payload_json` and `files[n]` parts) that discord.js sends with uploads.
import type { IncomingMessage } from "node:http";

export interface UploadedFile {
  field: string;
  filename: string;
  type: string;
  data: Buffer;
}

/** A body over the cap; the server answers 413 and closes the connection instead of reading on. */
export class BodyTooLargeError extends Error {
  constructor(readonly limit: number) {
    super(`request body larger than ${limit} bytes`);
  }
}

/**
 * The whole body, or BodyTooLargeError as soon as it is known to exceed `limit`: at once from Content-Length,
 * or while streaming when there is none. Reading stops there (the request is paused, not destroyed, so the
 * answer can still be sent on its connection).
 */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers["content-length"]);
  if (Number.isFinite(declared) && declared > limit) return Promise.reject(new BodyTooLargeError(limit));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.off("data", onData);
        req.pause();
        reject(new BodyTooLargeError(limit));
        return;
      }
      chunks.push(chunk);
    };
    req.on("data", onData);
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

/** JSON bodies, or multipart bodies with `payload_json` and `files[n]` parts, as discord.js sends them. */
export async function parseBody(
  req: IncomingMessage,
  raw: Buffer,
): Promise<{ body: unknown; files: UploadedFile[] }> {
  const type = req.headers["content-type"] ?? "";
  if (raw.length === 0) return { body: undefined, files: [] };
  if (type.startsWith("multipart/form-data")) {
    const form = await new Response(new Uint8Array(raw), { headers: { "content-type": type } }).formData();
    const files: UploadedFile[] = [];
    let body: unknown = {};
    for (const [field, value] of form.entries()) {
      if (field === "payload_json" && typeof value === "string") body = JSON.parse(value);
      else if (typeof value !== "string") {
        files.push({
          field,
          filename: value.name,
          type: value.type,
          data: Buffer.from(await value.arrayBuffer()),
        });
      }
    }
    return { body, files };
  }
  return { body: JSON.parse(raw.toString("utf8")), files: [] };
}
