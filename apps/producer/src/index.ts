export { buildProducerApi } from "./server.ts";
