#!/usr/bin/env node
import { runDemo } from './demo.js';

const [command] = process.argv.slice(2);
if (command === 'demo') {
  await runDemo();
} else {
  process.stderr.write('usage: tapedeck demo\n');
  process.exitCode = 2;
}
