#!/usr/bin/env node
/**
 * The `milestones` command. For now: `milestones info` (version, backends, dtypes).
 */
import { VERSION, DTYPES, availableBackends, describeBackend, getDefaultDevice } from '../src/index.js';


const USAGE = `usage: milestones <command>

commands:
  info        version, backends and dtypes
  help        this message
`;

function info(): void {
  console.log(`milestones ${VERSION}`);
  console.log(`node ${process.version} (${process.platform}-${process.arch})`);
  console.log(`default device: ${getDefaultDevice()}`);
  console.log('backends:');
  for (const name of availableBackends()) console.log(`  ${name.padEnd(10)} ${describeBackend(name)}`);
  console.log(`dtypes: ${DTYPES.join(', ')}`);
}

function main(argv: string[]): number {
  const [command] = argv;
  switch (command) {
    case 'info':
      info();
      return 0;
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(USAGE);
      return 0;
    case '--version':
    case '-v':
      console.log(VERSION);
      return 0;
    default:
      process.stderr.write(`milestones: unknown command '${command}'\n\n${USAGE}`);
      return 2;
  }
}

process.exitCode = main(process.argv.slice(2));
