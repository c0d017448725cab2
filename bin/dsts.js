#!/usr/bin/env node
// The `dsts` command: registers the TypeScript loader, then hands over to src/cli.
import { register } from 'tsx/esm/api';
register();
await import('../src/cli/main.ts');
