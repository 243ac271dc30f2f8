// The list pagers' cooldown: a member turning pages faster than one a second is answered, only to them, to slow
// down (the router shows a UserFacingError ephemerally), and nothing is read or rendered for that press.
import type { AppContext } from "../../features/context.ts";
import { UserFacingError } from "../../kit/errors.ts";

export function requirePagerTurn(ctx: Pick<AppContext, "pagerCooldown">, userId: string): void {
  if (!ctx.pagerCooldown.take(userId))
    throw new UserFacingError("Slow down: one page a second. Press again in a moment.");
}
