// The secret values a configuration holds, so the logger (and the health report) can scrub them.
import { SECRET_PARAMS } from "../db/database.ts";
import type { Config } from "./load.ts";

/** The secret values a config holds, for the logger's redaction. */
export function configSecrets(config: Config): string[] {
  return [
    config.discord.token,
    config.replicate.token,
    ...config.awsSecrets,
    ...urlSecrets(config.databaseUrl),
    config.http.webhookSecret,
    config.http.linkSecret,
    ...urlSecrets(config.queue?.redisUrl),
  ].filter((s): s is string => !!s);
}

/**
 * A database or Redis URL's password (in the URL, or as a `?password=`-like parameter `pg` also reads), raw
 * and as written in the URL (percent-encoded), for the logger to scrub.
 */
function urlSecrets(url: string | undefined): string[] {
  if (!url) return [];
  const u = new URL(url);
  const params = [...u.searchParams].filter(([name]) => SECRET_PARAMS.test(name)).map(([, v]) => v);
  return [u.password, ...params].flatMap((value) => {
    if (!value) return [];
    try {
      return [value, decodeURIComponent(value)];
    } catch {
      return [value]; // a stray % that is not an escape: the value is used as written
    }
  });
}
