// What the simulators share (apps/luxsci-sim, apps/responsys-sim): seeded randomness, so a run
// is reproducible from --seed. Nothing of luxrelay's clients or pipelines: a simulator must not
// share their assumptions.

export {
  type ActiveFaultRule,
  breakConnection,
  compileRoute,
  FaultRules,
  parseFaultFields,
} from "./faults.ts";
export {
  fromBase62,
  hash32,
  hashIndex,
  mulberry32,
  pick,
  randomInt,
  toBase62,
  unitDraw,
} from "./prng.ts";
