import { z } from "zod";
import { AutoPickerConfigError } from "../errors";
import type { AutoPickerChatModelInput } from "../model/types";
import { parseOrThrow } from "./messages";
import { autoPickerInputSchema, prioritySchema } from "./options";
import { nonEmptyString } from "./schemas";

/** Validates the options of `new AutoPickerChatModel(...)`; throws `AutoPickerConfigError` naming each bad one. */
export function validatePickerInput(fields: AutoPickerChatModelInput | undefined): void {
  if (fields === undefined || fields === null) {
    throw new AutoPickerConfigError(
      "AutoPickerChatModel needs options: new AutoPickerChatModel({ primary: new ChatOpenAI(...), fallbacks: [...] }).",
    );
  }
  parseOrThrow(autoPickerInputSchema, fields, { intro: "Invalid AutoPickerChatModel options:" });
}

const placeShape = { priority: prioritySchema.optional(), tenant: nonEmptyString().optional() };
const callOptionPlace = z.looseObject({ autopicker: z.looseObject(placeShape) });
const metadataPlace = z.looseObject({
  metadata: z.looseObject({
    autopicker_priority: placeShape.priority,
    autopicker_tenant: placeShape.tenant,
  }),
});

/**
 * Checks a call's class and tenant, from the `autopicker` call option or from run metadata
 * (`autopicker_priority`, `autopicker_tenant`); throws `AutoPickerConfigError` naming the field,
 * with a "did you mean" for a misspelt class.
 */
export function validateCallPlace(
  from: "autopicker" | "metadata",
  value: { priority?: unknown; tenant?: unknown },
): void {
  if (from === "autopicker") {
    parseOrThrow(callOptionPlace, { autopicker: value }, { intro: "Invalid call options:" });
  } else {
    parseOrThrow(
      metadataPlace,
      { metadata: { autopicker_priority: value.priority, autopicker_tenant: value.tenant } },
      { intro: "Invalid run metadata:" },
    );
  }
}
