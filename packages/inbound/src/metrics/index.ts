export { type ContactEngagement, getContactEngagement } from "./contact-engagement.ts";
export { type EventMetrics, getExecutionMetrics, getOfferMetrics } from "./event-metrics.ts";
