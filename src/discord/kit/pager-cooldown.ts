// The list pagers' cooldown: a member turning pages faster than one a second is answered, only to them, to slow
// down (the router shows a UserFacingError ephemerally), and nothing is read or rendered for that press.
import type { AppContext } from "../../features/context.ts";
import { UserFacingError } from "../../kit/errors.ts";
import { t } from "../../kit/i18n.ts";

export function requirePagerTurn(ctx: Pick<AppContext, "pagerCooldown">, userId: string): void {
  if (!ctx.pagerCooldown.take(userId)) throw new UserFacingError(t("kit:pager.slowDown"));
}
