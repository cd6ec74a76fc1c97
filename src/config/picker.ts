import { AutoPickerConfigError } from "../errors";
import type { AutoPickerChatModelInput } from "../model/types";
import { parseOrThrow } from "./messages";
import { autoPickerInputSchema } from "./options";

/** Validates the options of `new AutoPickerChatModel(...)`; throws `AutoPickerConfigError` naming each bad one. */
export function validatePickerInput(fields: AutoPickerChatModelInput | undefined): void {
  if (fields === undefined || fields === null) {
    throw new AutoPickerConfigError(
      "AutoPickerChatModel needs options: new AutoPickerChatModel({ primary: new ChatOpenAI(...), fallbacks: [...] }).",
    );
  }
  parseOrThrow(autoPickerInputSchema, fields, { intro: "Invalid AutoPickerChatModel options:" });
}
