// The files of the fake Replicate server: the outputs it serves for its predictions (an image, a video, or
// the bad files a test asks for), and the inputs the bot uploads with `POST /v1/files`.
import { createHash, randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import type { ServerResponse } from "node:http";
import type { CreateRecord, Prediction } from "./fake-predictions.ts";
import { VIDEO_MODELS } from "./replicate-models.ts";

const SAMPLE_VIDEO = readFileSync(new URL("../../src/providers/mock/assets/mock-video.mp4", import.meta.url));

export interface UploadedFile {
  data: Buffer;
  contentType: string;
}

/** Answers a prediction's output URL as its outcome says; the status answered, for the request log. */
export function serveOutput(prediction: Prediction | undefined, image: Buffer, res: ServerResponse): number {
  if (!prediction) {
    res.writeHead(404).end();
    return 404;
  }
  if (prediction.redirectTo) {
    res.writeHead(302, { Location: prediction.redirectTo }).end();
    return 302;
  }
  if (prediction.outcome === "not_image") {
    res.writeHead(200, { "Content-Type": "image/png" }).end("<html><body>not an image</body></html>");
  } else if (prediction.outcome === "oversized") {
    sendOversized(image, res);
  } else if (VIDEO_MODELS.has(prediction.model)) {
    res
      .writeHead(200, { "Content-Type": "video/mp4", "Content-Length": SAMPLE_VIDEO.length })
      .end(SAMPLE_VIDEO);
  } else {
    const own = prediction.outputImage ?? image;
    res.writeHead(200, { "Content-Type": "image/png", "Content-Length": own.length }).end(own);
  }
  return 200;
}

/** A real image followed by 30 MiB, with no Content-Length: the bot must count while it reads. */
function sendOversized(image: Buffer, res: ServerResponse): void {
  res.writeHead(200, { "Content-Type": "image/png" });
  const chunk = Buffer.alloc(1024 * 1024, 7);
  let sent = 0;
  const pump = () => {
    while (sent < 30 && res.write(chunk)) sent++;
    if (sent >= 30) res.end();
    else res.once("drain", pump);
  };
  res.write(image);
  pump();
  res.on("error", () => {});
}

/**
 * Stores a `POST /v1/files` body (multipart as Replicate takes it: the bytes in `content`, JSON in `metadata`;
 * parsed by undici) and returns the file object Replicate answers, or undefined when `content` is missing.
 */
export async function storeUpload(
  raw: Buffer,
  contentTypeHeader: string,
  uploads: Map<string, UploadedFile>,
  apiUrl: string,
): Promise<Record<string, unknown> | undefined> {
  const form = await new Response(new Uint8Array(raw), {
    headers: { "content-type": contentTypeHeader },
  }).formData();
  const content = form.get("content");
  if (!(content instanceof Blob)) return undefined;
  const data = Buffer.from(await content.arrayBuffer());
  const id = randomBytes(12).toString("hex");
  const contentType = content.type || "application/octet-stream";
  uploads.set(id, { data, contentType });
  return {
    id,
    content_type: contentType,
    size: data.length,
    checksums: { sha256: createHash("sha256").update(data).digest("hex") },
    metadata: JSON.parse((await (form.get("metadata") as Blob | null)?.text()) || "{}"),
    created_at: new Date().toISOString(),
    expires_at: null,
    urls: { get: `${apiUrl}/files/${id}/download` },
  };
}

/**
 * The images a create's `image_input` (or `image`) named, as the model would read them: a data: URI decoded, a file
 * uploaded here by its bytes, anything else (a link elsewhere) as undefined.
 */
export function readImageInputs(
  create: CreateRecord,
  uploads: Map<string, UploadedFile>,
  apiUrl: string,
): Array<{ data: Buffer; mime: string; via: "data_uri" | "upload" } | undefined> {
  // `image_input` (the reference models' list), or `image` (an upscaler's one image).
  const { image_input: list, image } = create.input;
  const urls = Array.isArray(list) ? (list as unknown[]) : typeof image === "string" ? [image] : [];
  return urls.map((url) => {
    const text = String(url);
    const inline = /^data:([\w/+.-]+);base64,(.*)$/s.exec(text);
    if (inline)
      return {
        data: Buffer.from(inline[2] as string, "base64"),
        mime: inline[1] as string,
        via: "data_uri",
      };
    const uploaded = new RegExp(`^${apiUrl}/files/(\\w+)/download$`).exec(text);
    const file = uploaded && uploads.get(uploaded[1] as string);
    return file ? { data: file.data, mime: file.contentType, via: "upload" } : undefined;
  });
}
