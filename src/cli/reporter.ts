/** Where the CLI's messages go: warnings and errors on stderr, one line each, prefixed. */
export interface Reporter {
  warn(message: string): void;
}

export function stderrReporter(quiet: boolean): Reporter {
  const said = new Set<string>();
  return {
    warn(message) {
      if (quiet || said.has(message)) return; // the same warning once per run is enough
      said.add(message);
      process.stderr.write(`reprimage: warning: ${message}\n`);
    },
  };
}
