// Outputs are fetched only over https from Replicate's delivery hosts (or origins configured for a local
// stand-in), redirects are checked against the same rule, and nothing refused is stored.
import { readdirSync } from "node:fs";
import sharp from "sharp";
import { afterEach, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/load.ts";
import { REPLICATE_DELIVERY_ORIGINS, refuseOutputUrl } from "../../src/providers/download.ts";
import { generate } from "../support/env.ts";
import { REQUEST, type Rig, startOtherServer, startRig } from "./replicate/support.ts";

let rig: Rig | undefined;
let other: Awaited<ReturnType<typeof startOtherServer>> | undefined;
afterEach(async () => {
  await rig?.close();
  await other?.close();
  rig = other = undefined;
});

const png = (width: number, height: number) =>
  sharp({ create: { width, height, channels: 3, background: "#3a7" } })
    .png()
    .toBuffer();

async function onlyImage(r: Rig) {
  const view = await generate(r, REQUEST);
  return { view, image: view.images[0], stored: readdirSync(`${r.dir.path}/images`) };
}

describe("the output origin rule", () => {
  it("allows Replicate's delivery host and its subdomains over https, and nothing else by default", () => {
    const allowed = (u: string) => refuseOutputUrl(new URL(u), REPLICATE_DELIVERY_ORIGINS);
    expect(allowed("https://replicate.delivery/pbxt/abc/out.png")).toBeUndefined();
    expect(allowed("https://pbxt.replicate.delivery/abc/out.png")).toBeUndefined();
    expect(allowed("https://a.b.REPLICATE.delivery/out.png")).toBeUndefined();
    expect(allowed("http://replicate.delivery/out.png")).toBe(
      "output URL http://replicate.delivery is not https",
    );
    expect(allowed("https://replicate.delivery.example.com/out.png")).toBe(
      "output URL host replicate.delivery.example.com is not an allowed output origin",
    );
    expect(allowed("https://evilreplicate.delivery/out.png")).toMatch(/not an allowed output origin/);
    expect(allowed("https://replicate.delivery:8443/out.png")).toMatch(/not an allowed output origin/);
    expect(allowed("https://user:pw@replicate.delivery/out.png")).toBe("output URL carries credentials");
    expect(allowed("file:///etc/passwd")).toBe("output URL scheme file: is not allowed");
    expect(allowed("http://169.254.169.254/latest/meta-data/")).toMatch(/not an allowed output origin/);
  });
});

describe("REPLICATE_OUTPUT_ORIGINS", () => {
  it("defaults to Replicate's delivery hosts, takes a list of origins and refuses anything else", () => {
    const origins = (value?: string) =>
      loadConfig({ IMAGE_PROVIDER: "mock", REPLICATE_OUTPUT_ORIGINS: value }).replicate.outputOrigins;
    expect(origins()).toEqual(["https://replicate.delivery", "https://*.replicate.delivery"]);
    expect(origins("")).toEqual(REPLICATE_DELIVERY_ORIGINS);
    expect(origins(" https://*.Example.COM:443 , http://127.0.0.1:8080")).toEqual([
      "https://*.example.com",
      "http://127.0.0.1:8080",
    ]);
    for (const bad of ["https://cdn.example.com/files", "ftp://example.com", "https://a.*.example.com"]) {
      expect(() => origins(bad)).toThrow(`REPLICATE_OUTPUT_ORIGINS "${bad}" is not an origin`);
    }
  });
});

describe("downloading an output", () => {
  it("refuses an output on a host that is not allowed, fetching and storing nothing", async () => {
    other = await startOtherServer(await png(8, 8));
    const url = `${other.origin}/out.png`;
    rig = await startRig({ behaviour: () => ({ outputUrl: url }) });
    const { view, image, stored } = await onlyImage(rig);

    expect(view.generation.status).toBe("failed");
    expect(image).toMatchObject({
      status: "failed",
      errorCode: "bad_output",
      errorMessage: `output URL host ${new URL(url).host} is not an allowed output origin`,
      fileName: null,
    });
    expect(other.requests).toEqual([]);
    expect(stored).toEqual([]);
  });

  it("refuses plain http, even to a host allowed over https", async () => {
    other = await startOtherServer(await png(8, 8));
    const httpsOrigin = other.origin.replace("http://", "https://");
    rig = await startRig(
      {
        behaviour: (_input, i) => ({
          outputUrl: i === 0 ? `${other?.origin}/out.png` : "http://replicate.delivery/x.png",
        }),
      },
      {},
      { REPLICATE_OUTPUT_ORIGINS: `${httpsOrigin},https://replicate.delivery` },
    );
    const view = await generate(rig, { ...REQUEST, count: 2 });

    expect(view.images.map((i) => [i.status, i.errorCode, i.errorMessage])).toEqual([
      ["failed", "bad_output", `output URL ${other.origin} is not https`],
      ["failed", "bad_output", "output URL http://replicate.delivery is not https"],
    ]);
    expect(other.requests).toEqual([]);
    expect(readdirSync(`${rig.dir.path}/images`)).toEqual([]);
  });

  it("refuses a redirect to a host that is not allowed, after asking only the allowed one", async () => {
    other = await startOtherServer(await png(8, 8));
    rig = await startRig({ behaviour: () => ({ redirectTo: `${other?.origin}/out.png` }) });
    const { image, stored } = await onlyImage(rig);

    expect(rig.fake.requests.filter((q) => q.path.startsWith("/files/")).map((q) => q.status)).toEqual([302]);
    expect(image).toMatchObject({
      status: "failed",
      errorCode: "bad_output",
      errorMessage: `output URL host ${new URL(other.origin).host} is not an allowed output origin`,
    });
    expect(other.requests).toEqual([]);
    expect(stored).toEqual([]);
  });

  it("follows a redirect to an allowed origin, checked by the same rule", async () => {
    other = await startOtherServer(await png(8, 8));
    rig = await startRig(
      { behaviour: () => ({ redirectTo: `${other?.origin}/out.png` }) },
      {},
      { REPLICATE_OUTPUT_ORIGINS: other.origin },
    );
    const { image, stored } = await onlyImage(rig);

    expect(other.requests).toEqual(["/out.png"]);
    expect(image).toMatchObject({ status: "succeeded", width: 8, height: 8 });
    expect(stored).toEqual([image?.fileName]);
  });

  it("refuses an image over 4096² pixels on store, with its size in the reason, so it is never previewed", async () => {
    // 5000×5000 of one colour: a few hundred KB of PNG, 75 MB once decoded.
    const huge = await png(5000, 5000);
    expect(huge.length).toBeLessThan(1024 * 1024);
    rig = await startRig({ outputImage: huge });
    const { view, image, stored } = await onlyImage(rig);

    expect(view.generation.status).toBe("failed");
    expect(image).toMatchObject({
      status: "failed",
      errorCode: "bad_output",
      errorMessage: "output image is 5000×5000 pixels, more than the 16,777,216 (4096×4096) the bot stores",
      fileName: null,
    });
    expect(stored).toEqual([]);
  });
});
