export { RedactingBullMQAdapter } from "./adapter.ts";
export { BASIC_REALM, type BasicCredentials, checkBasicAuth, parseBasicAuth } from "./auth.ts";
export {
  buildDashboard,
  type DashboardOptions,
  HEALTH_PATH,
  normalizeBasePath,
} from "./dashboard.ts";
export { formatJobData, formatJobName, maskText, REDACTED } from "./format.ts";
