// Validates every REST body the bot sends against Discord's official schemas (the discord-api-spec package).
import {
  ApplicationCommandAutocompleteCallbackRequestSchema,
  ApplicationCommandUpdateRequestSchema,
  CreateMessageInteractionCallbackRequestSchema,
  IncomingWebhookRequestPartialSchema,
  IncomingWebhookUpdateRequestPartialSchema,
  MessageCreateRequestSchema,
  MessageEditRequestPartialSchema,
  ModalInteractionCallbackRequestSchema,
  UpdateMessageInteractionCallbackRequestSchema,
} from "discord-api-spec/zod";
import { z } from "zod";

export type BodyKind =
  | "interaction_callback"
  | "webhook_create"
  | "webhook_update"
  | "message_create"
  | "message_edit"
  | "commands_overwrite";

type Parser = z.ZodType;

const commandsOverwrite = z.array(ApplicationCommandUpdateRequestSchema);

function callbackSchema(body: unknown): Parser | undefined {
  const type = (body as { type?: unknown })?.type;
  if (type === 4 || type === 5) return CreateMessageInteractionCallbackRequestSchema;
  if (type === 6 || type === 7) return UpdateMessageInteractionCallbackRequestSchema;
  if (type === 8) return ApplicationCommandAutocompleteCallbackRequestSchema;
  if (type === 9) return ModalInteractionCallbackRequestSchema;
  return undefined;
}

const SCHEMAS: Record<Exclude<BodyKind, "interaction_callback">, Parser> = {
  webhook_create: IncomingWebhookRequestPartialSchema,
  webhook_update: IncomingWebhookUpdateRequestPartialSchema,
  message_create: MessageCreateRequestSchema,
  message_edit: MessageEditRequestPartialSchema,
  commands_overwrite: commandsOverwrite,
};

/** The schema's complaints about `body`, or an empty list when it is valid. */
export function validateBody(kind: BodyKind, body: unknown): string[] {
  const schema = kind === "interaction_callback" ? callbackSchema(body) : SCHEMAS[kind];
  if (!schema)
    return [`unknown interaction callback type ${JSON.stringify((body as { type?: unknown })?.type)}`];
  const result = schema.safeParse(body);
  if (result.success) return [];
  return result.error.issues.map((i) => `${i.path.join(".") || "(body)"}: ${i.message}`);
}
