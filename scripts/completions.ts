/**
 * bash, zsh and fish completion scripts from the command model: command names, each command's
 * options, the values of options that take a fixed list, and files for everything else.
 */
import type { OptionModel, ProgramModel } from './command-model.js';

const GENERATED = 'Generated from reprimage\'s command definitions by scripts/generate-man-completions.ts; do not edit.';

const names = (o: OptionModel) => [o.short, o.long].filter((n): n is string => n !== undefined);

export function bashCompletion(model: ProgramModel): string {
  const commands = model.commands.map((c) => c.name).join(' ');
  const top = [...model.options.flatMap(names)].join(' ');
  let out = `# bash completion for reprimage. ${GENERATED}\n`;
  out += '_reprimage() {\n';
  out += '  local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]} cmd="" i\n';
  out += '  for ((i = 1; i < COMP_CWORD; i++)); do\n';
  out += '    case ${COMP_WORDS[i]} in -*) ;; *) cmd=${COMP_WORDS[i]}; break ;; esac\n';
  out += '  done\n';
  out += '  if [[ -z $cmd ]]; then\n';
  out += `    COMPREPLY=($(compgen -W "${commands} ${top}" -- "$cur"))\n`;
  out += '    return\n  fi\n';
  out += '  local opts=""\n  case $cmd in\n';
  for (const c of model.commands) {
    out += `    ${c.name}) opts="${c.options.flatMap(names).join(' ')}"\n`;
    out += '      case $prev in\n';
    for (const o of c.options.filter((o) => o.choices)) out += `        ${names(o).join('|')}) COMPREPLY=($(compgen -W "${o.choices!.join(' ')}" -- "$cur")); return ;;\n`;
    out += '      esac ;;\n';
  }
  out += '  esac\n';
  out += '  if [[ $cur == -* ]]; then\n    COMPREPLY=($(compgen -W "$opts" -- "$cur"))\n  else\n    COMPREPLY=($(compgen -f -- "$cur"))\n  fi\n}\n';
  out += 'complete -o filenames -o bashdefault -F _reprimage reprimage\n';
  return out;
}

/** Text inside a zsh single-quoted string, with brackets and colons escaped for _arguments specs. */
const zq = (s: string) => s.replace(/'/g, `'\\''`).replace(/[[\]:]/g, (c) => `\\${c}`);

export function zshCompletion(model: ProgramModel): string {
  let out = `#compdef reprimage\n# zsh completion for reprimage. ${GENERATED}\n`;
  out += '_reprimage() {\n  local -a commands\n  commands=(\n';
  for (const c of model.commands) out += `    '${c.name}:${zq(c.description)}'\n`;
  out += '  )\n';
  out += '  if (( CURRENT == 2 )); then\n    _describe -t commands command commands\n    return\n  fi\n';
  out += '  local cmd=${words[2]}\n  shift words\n  (( CURRENT-- ))\n  case $cmd in\n';
  for (const c of model.commands) {
    const specs = c.options.map((o) => {
      const action = o.value === undefined ? '' : `:${zq(o.value)}:${o.choices ? `(${o.choices.join(' ')})` : '_files'}`;
      const help = `[${zq(o.description)}]`;
      const repeat = o.repeatable ? '*' : '';
      return o.short ? `'${repeat}(${o.short} ${o.long})'{${o.short},${o.long}}'${help}${action}'` : `'${repeat}${o.long}${help}${action}'`;
    });
    out += `    ${c.name})\n      _arguments -s \\\n${specs.map((s) => `        ${s} \\\n`).join('')}        '*:file:_files' ;;\n`;
  }
  out += '  esac\n}\n';
  // sourced (as the test does) it registers itself; autoloaded from $fpath it completes
  out += 'if [[ ${zsh_eval_context[-1]} == loadautofunc ]]; then\n  _reprimage "$@"\nelse\n  compdef _reprimage reprimage\nfi\n';
  return out;
}

const fq = (s: string) => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;

export function fishCompletion(model: ProgramModel): string {
  const all = model.commands.map((c) => c.name).join(' ');
  let out = `# fish completion for reprimage. ${GENERATED}\n`;
  out += 'complete -c reprimage -f\n';
  for (const c of model.commands) out += `complete -c reprimage -n "not __fish_seen_subcommand_from ${all}" -a ${c.name} -d ${fq(c.description)}\n`;
  for (const o of model.options) out += `complete -c reprimage -n "not __fish_seen_subcommand_from ${all}"${o.short ? ` -s ${o.short.slice(1)}` : ''} -l ${o.long.slice(2)} -d ${fq(o.description)}\n`;
  for (const c of model.commands) {
    const when = `-n "__fish_seen_subcommand_from ${c.name}"`;
    out += `complete -c reprimage ${when} -F\n`;
    for (const o of c.options) {
      const value = o.value === undefined ? '' : o.choices ? ` -x -a ${fq(o.choices.join(' '))}` : ' -r -F';
      out += `complete -c reprimage ${when}${o.short ? ` -s ${o.short.slice(1)}` : ''} -l ${o.long.slice(2)}${value} -d ${fq(o.description)}\n`;
    }
  }
  return out;
}
