export {
  APPLY_BATCH_EVENTS,
  type ApplyResult,
  applyNewEvents,
  publishNewEvents,
} from "./apply-events.ts";
export { OFFER_HISTORY_PRECEDENCE } from "./offer-history.ts";
export {
  EVENTS_STREAM,
  EVENTS_STREAM_MAXLEN,
  eventsMarkKey,
  eventsStreamKey,
} from "./publish.ts";
export { SUPPRESSION_SOURCES } from "./suppression.ts";
