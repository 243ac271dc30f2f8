// The package's "types" for its zod entry point is the JavaScript file itself; these are the schemas we use.
declare module "discord-api-spec/zod" {
  import type { ZodType } from "zod";
  export const ApplicationCommandAutocompleteCallbackRequestSchema: ZodType;
  export const ApplicationCommandUpdateRequestSchema: ZodType;
  export const CreateMessageInteractionCallbackRequestSchema: ZodType;
  export const IncomingWebhookRequestPartialSchema: ZodType;
  export const IncomingWebhookUpdateRequestPartialSchema: ZodType;
  export const MessageCreateRequestSchema: ZodType;
  export const MessageEditRequestPartialSchema: ZodType;
  export const ModalInteractionCallbackRequestSchema: ZodType;
  export const UpdateMessageInteractionCallbackRequestSchema: ZodType;
}
