#!/usr/bin/env node
// Launcher for the `responsys-sim` bin: registers tsx (the app runs from TypeScript source,
// like every workspace here) and loads src/main.ts.
import { register } from "tsx/esm/api";

register();
await import("../src/main.ts");
