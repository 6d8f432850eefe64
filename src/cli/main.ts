#!/usr/bin/env node
/**
 * The `reprimage` command. Parsing and printing only; the work is done by the library.
 *
 * Start-up is paid by every call (a build system may run `reprimage normalize` once per
 * package; docs/benchmarks.md), so this file imports nothing until it knows what is asked:
 * `--version` loads the codec names (constants) and no command; every other line goes to
 * command-line.ts, which loads only the module of the command named (commands.ts) and parses
 * a plain `normalize` line without commander (normalize-argv.ts).
 */

// A closed pipe (`reprimage ls IMG | head`) is not an error of ours.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(0);
  throw e;
});

async function versionText(): Promise<string> {
  const [{ codecVersions }, { packageVersion }] = await Promise.all([import('../compress/registry.js'), import('./commands.js')]);
  const lines = [`reprimage ${packageVersion()} (Node.js ${process.versions.node})`, 'codecs used to write:'];
  for (const { codec, implementation } of codecVersions()) lines.push(`  ${codec}: ${implementation}`);
  return lines.join('\n');
}

const args = process.argv.slice(2);
if (args.length === 1 && (args[0] === '--version' || args[0] === '-V')) {
  process.stdout.write(`${await versionText()}\n`);
} else {
  await (await import('./command-line.js')).run(process.argv);
}
