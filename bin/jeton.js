#!/usr/bin/env node
// Runs the compiled CLI; `npm install` builds it (the `prepare` script).
import { main } from "../dist/jeton/jeton.js";

await main(process.argv);
