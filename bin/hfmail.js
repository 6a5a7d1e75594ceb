#!/usr/bin/env node
// Runs the TypeScript sources directly through tsx's loader, so the CLI and the tests run the same code.
import { register } from 'tsx/esm/api';

register();
await import('../src/cli/main.ts');
