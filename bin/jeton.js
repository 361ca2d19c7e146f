#!/usr/bin/env node
// Runs the compiled CLI; `npm install` builds it (the `prepare` script).
import { main } from "../dist/validator/cli/jeton.js";

await main(process.argv);
