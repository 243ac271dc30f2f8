// Preloaded into the bot process by the benchmark (node --import; plain JavaScript, so the bot needs no
// TypeScript loader for it): samples event-loop delay and memory and
// writes them to BENCH_PROBE_FILE, so the bot's own code carries no benchmark hooks; and at exit it writes the
// bot's trace marks (src/kit/trace.ts) to BENCH_PROBE_FILE.trace.jsonl, one JSON mark a line, for the breakdown.
import { subscribe } from "node:diagnostics_channel";
import { appendFileSync, writeFileSync } from "node:fs";
import { rename, writeFile } from "node:fs/promises";
import { monitorEventLoopDelay } from "node:perf_hooks";

/** src/kit/trace.ts's channel: diagnostics channels are global by name. */
const TRACE_CHANNEL = "crbot:trace";

const file = process.env.BENCH_PROBE_FILE;
if (file) {
  const histogram = monitorEventLoopDelay({ resolution: 10 });
  histogram.enable();
  let peakRss = 0;
  // Kept in memory and written once, at exit (the benchmark reads them after stopping the bot): a write on the
  // event loop while the disk is busy with the bot's own fsyncs (or PostgreSQL's) would stall the very loop
  // being measured. A /character leaves about 30 marks of 150 bytes; the load run, under 1 MB.
  const marks = [];
  subscribe(TRACE_CHANNEL, (mark) => {
    marks.push(JSON.stringify(mark));
  });
  const figures = () =>
    JSON.stringify({
      eventLoopDelayMs: {
        p50: histogram.percentile(50) / 1e6,
        p99: histogram.percentile(99) / 1e6,
        max: histogram.max / 1e6,
      },
      rssBytes: process.memoryUsage.rss(),
      // Sampled, not getrusage's maxRSS: Linux keeps that across exec, so a bot spawned by a large benchmark
      // process would report the benchmark's own peak as its own.
      peakRssBytes: peakRss,
    });
  process.on("exit", () => {
    if (marks.length > 0) appendFileSync(`${file}.trace.jsonl`, `${marks.join("\n")}\n`);
    writeFileSync(file, figures());
  });
  // Written aside, then renamed (the benchmark reads the file at any moment and must never see half of it),
  // through the thread pool, one write at a time.
  let writing = false;
  const write = () => {
    if (writing) return;
    writing = true;
    peakRss = Math.max(peakRss, process.memoryUsage.rss());
    writeFile(`${file}.tmp`, figures())
      .then(() => rename(`${file}.tmp`, file))
      .catch(() => {})
      .finally(() => {
        writing = false;
      });
  };
  write();
  setInterval(write, 200).unref();
  // Between writes too, so that a short peak is not missed.
  setInterval(() => {
    peakRss = Math.max(peakRss, process.memoryUsage.rss());
  }, 25).unref();
  process.on("SIGUSR2", () => {
    histogram.reset();
    peakRss = 0;
  });
}

// BENCH_CPU_PROFILE=<file>: profiles the bot's main thread from the load phase (the bench's SIGUSR2) to its
// exit, for finding what holds its event loop.
const profileFile = process.env.BENCH_CPU_PROFILE;
if (profileFile) {
  const { Session } = await import("node:inspector");
  const { writeFileSync: write } = await import("node:fs");
  const session = new Session();
  session.connect();
  session.post("Profiler.enable");
  process.on("SIGUSR2", () => session.post("Profiler.start"));
  process.on("exit", () => {
    session.post("Profiler.stop", (err, result) => {
      if (!err) write(profileFile, JSON.stringify(result.profile));
    });
  });
}
