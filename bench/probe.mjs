// Preloaded into the bot process by the benchmark (node --import; plain JavaScript, so the bot needs no
// TypeScript loader for it): samples event-loop delay and memory and
// writes them to BENCH_PROBE_FILE, so the bot's own code carries no benchmark hooks; and it appends the bot's
// trace marks (src/domain/trace.ts) to BENCH_PROBE_FILE.trace.jsonl, one JSON mark a line, for the breakdown.
import { subscribe } from "node:diagnostics_channel";
import { appendFileSync, renameSync, writeFileSync } from "node:fs";
import { monitorEventLoopDelay } from "node:perf_hooks";

/** src/domain/trace.ts's channel: diagnostics channels are global by name. */
const TRACE_CHANNEL = "crbot:trace";

const file = process.env.BENCH_PROBE_FILE;
if (file) {
  const histogram = monitorEventLoopDelay({ resolution: 10 });
  histogram.enable();
  let peakRss = 0;
  let marks = [];
  subscribe(TRACE_CHANNEL, (mark) => {
    marks.push(JSON.stringify(mark));
  });
  const flushMarks = () => {
    if (marks.length === 0) return;
    appendFileSync(`${file}.trace.jsonl`, `${marks.join("\n")}\n`);
    marks = [];
  };
  process.on("exit", flushMarks);
  const write = () => {
    flushMarks();
    peakRss = Math.max(peakRss, process.memoryUsage.rss());
    // Written aside, then renamed: the benchmark reads the file at any moment and must never see half of it.
    writeFileSync(
      `${file}.tmp`,
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
      }),
    );
    renameSync(`${file}.tmp`, file);
  };
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
