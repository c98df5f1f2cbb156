#!/usr/bin/env node
// `node bin/inlet.mjs …`, as the command was run before its entry became bin/inlet.cjs (package.json's bin):
// the same command, through Node's ES module loader.
import './inlet.cjs';
