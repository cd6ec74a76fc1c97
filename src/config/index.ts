/**
 * One validation layer for every input a user writes: constructor options, model entries,
 * limits, circuit breaker, budget, environment variables and JSON files. Built on zod (the
 * validator LangChain ships with); messages name the option's path, say what it must be and what
 * it got, and suggest the closest known key for a typo.
 */
export { didYouMean, editDistance, formatIssues, formatPath, formatValue, parseOrThrow } from "./messages";
export {
  autoPickerInputSchema,
  budgetOptionsSchema,
  circuitBreakerSchema,
  envFactoryOptionsSchema,
  envTokenCount,
  KNOWN_TIERS,
  limitsSchema,
  limitWindowSchema,
  modelEntrySchema,
  pickerOptionsShape,
  pricingSchema,
  prioritiesSchema,
  priorityOptionsSchema,
  prioritySchema,
  tenantSchema,
  tenantsSchema,
  tierSchema,
} from "./options";
export {
  CALL_PARAMETERS,
  callback,
  finiteNumber,
  flag,
  nonEmptyString,
  oneOf,
  passThrough,
  type StrictOptionsConfig,
  strictOptions,
  wholeNumber,
  withMethods,
} from "./schemas";
