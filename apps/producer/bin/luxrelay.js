#!/usr/bin/env node
// `luxrelay`: the producer's CLI. The sources are TypeScript, run through tsx's loader.
import { register } from "tsx/esm/api";

register();
await import("../src/cli.ts");
