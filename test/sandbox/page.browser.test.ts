// Sandbox mode in a real browser: Debian's chromium driven by playwright-core, clicking what a person would.
import { existsSync, mkdirSync } from "node:fs";
import { type Browser, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningSandbox, startSandboxMode } from "../../src/app/sandbox-mode.ts";
import { makeTempDir, type TempDir } from "../support/env.ts";

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const hasChromium = existsSync(CHROMIUM);
export const SCREENSHOT = "test-results/sandbox-grid.png";

if (!hasChromium) {
  console.warn(
    `browser tests skipped: no chromium at ${CHROMIUM}. Install it (apt-get install chromium) or set CHROMIUM_PATH, then run npm run test:browser.`,
  );
}

describe.skipIf(!hasChromium)("npm run sandbox in a browser", () => {
  let running: RunningSandbox;
  let dir: TempDir;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    dir = makeTempDir("crbot-browser-");
    running = await startSandboxMode({
      env: { MOCK_LATENCY_MS: "2500", PREDICTION_POLL_MS: "50" },
      port: 0,
      dataDir: dir.path,
      useReplicate: false,
    });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
    });
    page = await browser.newPage({ viewport: { width: 1100, height: 1000 } });
    await page.goto(running.url);
  });

  afterAll(async () => {
    await browser?.close();
    await running?.stop();
    dir?.remove();
  });

  /** Switches member and waits until the page shows that member's view. */
  const asUser = async (label: string) => {
    const [id] = await page.selectOption("#user", { label });
    await page.waitForSelector(`body[data-user="${id}"]`);
  };
  const send = async (command: string, fields: Record<string, string>) => {
    await page.selectOption("#command", command);
    for (const [name, value] of Object.entries(fields)) {
      const field = page.locator(`#options [name="${name}"]`);
      if ((await field.evaluate((el) => el.tagName)) === "SELECT") await field.selectOption(value);
      else await field.fill(value);
    }
    await page.click("#composer button[type=submit]");
  };
  const lastMessage = () => page.locator("#messages article").last();

  it("runs /character from the composer, fills the grid live, picks as the owner, refuses a stranger, and plays a /video", async () => {
    await asUser("Alice (member)");
    const commands = await page.locator("#command option").allTextContents();
    expect(commands).toEqual(
      expect.arrayContaining([
        "/character",
        "/reference show",
        "/reference info",
        "/reference list",
        "/video",
      ]),
    );

    // Every version of the reply the page shows, recorded in the page itself so none is missed.
    await page.evaluate(() => {
      const counts: number[] = [];
      (window as unknown as { imageCounts: number[] }).imageCounts = counts;
      new MutationObserver(() => {
        const article = [...document.querySelectorAll("#messages article")].find((a) =>
          a.textContent?.includes("silver robot"),
        );
        if (article) counts.push(article.querySelectorAll(".gallery img").length);
      }).observe(document.querySelector("#messages") as Node, { childList: true, subtree: true });
    });
    await send("character", { description: "silver robot with blue eyes", count: "4" });
    const grid = page.locator("#messages article", { hasText: "silver robot with blue eyes" }).first();
    await grid.locator("button", { hasText: "Regenerate" }).waitFor({ timeout: 20_000 });
    // Live edits, no reload: the reply was seen with some but not all of its images before the grid was complete.
    const counts = await page.evaluate(() => (window as unknown as { imageCounts: number[] }).imageCounts);
    expect(counts.some((n) => n > 0 && n < 4)).toBe(true);
    await expect.poll(() => grid.locator(".gallery img").count()).toBe(4);
    await page.waitForFunction(() =>
      [...document.querySelectorAll(".gallery img")].every((i) => (i as HTMLImageElement).naturalWidth > 0),
    );
    mkdirSync("test-results", { recursive: true });
    await grid.screenshot({ path: SCREENSHOT });

    // Alice picks image 2: the button turns green, and only she sees the confirmation.
    await grid.locator("button", { hasText: /^2$/ }).click();
    await expect
      .poll(async () => grid.locator("button.style-3").textContent(), { timeout: 10_000 })
      .toContain("2");
    const confirmation = page.locator("#messages article.ephemeral", { hasText: "Picked image 2" });
    await confirmation.waitFor({ timeout: 10_000 });

    // Bob presses image 1 on Alice's grid: refused, privately, and the pick stays 2.
    await asUser("Bob (member)");
    expect(await page.locator("#messages article.ephemeral", { hasText: "Picked image 2" }).count()).toBe(0);
    const bobsView = page.locator("#messages article", { hasText: "silver robot with blue eyes" }).first();
    await bobsView.locator("button", { hasText: /^1$/ }).click();
    await page
      .locator("#messages article.ephemeral", { hasText: "Only @alice can use these buttons" })
      .waitFor({ timeout: 10_000 });
    expect(await bobsView.locator("button.style-3").textContent()).toContain("2");

    // Back to Alice: /video animates her pick and the page shows a player.
    await asUser("Alice (member)");
    await send("video", { prompt: "walks through the rain" });
    const player = lastMessage().locator("video");
    await player.waitFor({ timeout: 20_000 });
    const playable = await player.evaluate(
      (v) =>
        new Promise<boolean>((resolve) => {
          const video = v as HTMLVideoElement;
          if (video.readyState >= 1) return resolve(true);
          video.addEventListener("loadedmetadata", () => resolve(true), { once: true });
          video.addEventListener("error", () => resolve(false), { once: true });
          setTimeout(() => resolve(video.readyState >= 1), 5000);
        }),
    );
    const canPlayH264 = await player.evaluate((v) =>
      (v as HTMLVideoElement).canPlayType('video/mp4; codecs="avc1.42E01E"'),
    );
    if (canPlayH264) expect(playable).toBe(true);
  });

  it("varies an image into a new grid from its Vary button, and shows the library with its previews", async () => {
    await asUser("Alice (member)");
    const grid = page.locator("#messages article", { hasText: "silver robot with blue eyes" }).first();
    expect(await grid.locator("button", { hasText: /^Vary [1-4]$/ }).allTextContents()).toEqual([
      "Vary 1",
      "Vary 2",
      "Vary 3",
      "Vary 4",
    ]);
    const picked = await page
      .locator("#messages article.ephemeral", { hasText: "Picked image 2" })
      .first()
      .textContent();
    const id = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/.exec(picked ?? "")?.[0];
    if (!id) throw new Error("no reference id in the confirmation");

    await grid.locator("button", { hasText: /^Vary 2$/ }).click();
    const varied = page
      .locator("#messages article", { hasText: new RegExp(`Drawn from reference .?${id}`) })
      .first();
    await varied.locator("button", { hasText: "Regenerate" }).waitFor({ timeout: 20_000 });
    await expect.poll(() => varied.locator(".gallery img").count()).toBe(4);
    expect(await varied.locator("button", { hasText: /^Vary [1-4]$/ }).count()).toBe(4);

    // The moderator puts Alice's pick in the library; Bob browses it, with its preview.
    await asUser("Mona (moderator)");
    await send("library add", { reference: id, name: "Silver Robot" });
    await page
      .locator("#messages article.ephemeral", { hasText: /to the library as \W*Silver Robot/ })
      .waitFor({ timeout: 10_000 });
    await asUser("Bob (member)");
    await send("library list", {});
    const gallery = page.locator("#messages article.ephemeral", { hasText: "Library of this server" }).last();
    await gallery.waitFor({ timeout: 10_000 });
    expect(await gallery.textContent()).toContain("Silver Robot");
    await expect.poll(() => gallery.locator(".gallery img").count()).toBe(1);
    await page.waitForFunction(() =>
      [...document.querySelectorAll("#messages article.ephemeral .gallery img")].every(
        (i) => (i as HTMLImageElement).naturalWidth > 0,
      ),
    );
  });

  it("opens Remix's modal with the description, and a submitted edit draws a new grid", async () => {
    await asUser("Alice (member)");
    const grid = page.locator("#messages article", { hasText: "silver robot with blue eyes" }).first();
    await grid.locator("button", { hasText: "Remix" }).click();
    const dialog = page.locator("dialog#modal");
    await dialog.waitFor({ state: "visible", timeout: 10_000 });
    expect(await dialog.locator("#modal-title").textContent()).toBe("Remix");
    const field = dialog.locator("textarea");
    expect(await field.inputValue()).toBe("silver robot with blue eyes");
    expect(await field.getAttribute("maxlength")).toBe("1000");
    await field.fill("silver robot with green eyes, waving");
    await dialog.locator("button[type=submit]").click();
    await dialog.waitFor({ state: "hidden" });
    const remixed = page
      .locator("#messages article", { hasText: "silver robot with green eyes, waving" })
      .first();
    await remixed.locator("button", { hasText: "Remix" }).waitFor({ timeout: 20_000 });
    await expect.poll(() => remixed.locator(".gallery img").count()).toBe(4);
  });

  it("the pick's image panel: Sheet draws a labelled turnaround, Upscale an enlarged reference", async () => {
    await asUser("Alice (member)");
    const confirmation = page.locator("#messages article.ephemeral", { hasText: "Picked image 2" }).first();
    const labels = (await confirmation.locator("button").allTextContents()).map((t) =>
      t.replace(/^\P{L}+/u, "").trim(),
    );
    expect(labels).toEqual(["Upscale", "Vary (Subtle)", "Vary (Strong)", "Sheet"]);
    await confirmation.locator("button", { hasText: "Sheet" }).click();
    const sheet = page.locator("#messages article", { hasText: "Turnaround sheet: 1 front" }).first();
    await sheet.locator("button", { hasText: "Regenerate" }).waitFor({ timeout: 20_000 });
    await expect.poll(() => sheet.locator(".gallery img").count()).toBe(4);
    // Each view's alt text names it.
    expect(await sheet.locator(".gallery img").first().getAttribute("alt")).toContain("front view");

    await confirmation.locator("button", { hasText: "Upscale" }).click();
    const upscaled = page.locator("#messages article", { hasText: "mock/upscale" }).first();
    await upscaled.locator("button", { hasText: "Regenerate" }).waitFor({ timeout: 20_000 });
    await expect.poll(() => upscaled.locator(".gallery img").count()).toBe(1);
    await page.waitForFunction(() =>
      [...document.querySelectorAll("#messages article .gallery img")].every(
        (i) => (i as HTMLImageElement).naturalWidth > 0,
      ),
    );
  });
});
