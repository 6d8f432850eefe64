/**
 * The commands, arguments and options of `reprimage` as plain data, read from the same commander
 * definitions that `--help` prints, so that man pages and completions cannot drift from them.
 */
import type { Command, Option } from 'commander';
import { buildProgram, PROGRAM_DESCRIPTION } from '../src/cli/program.js';

export interface OptionModel {
  short?: string;
  long: string;
  /** The value's name (`file`, `gzip|xz`), undefined for a flag. */
  value?: string;
  /** The values the option accepts, when they are a fixed list. */
  choices?: string[];
  description: string;
  default?: string;
  repeatable: boolean;
}

export interface ArgumentModel {
  name: string;
  description: string;
  required: boolean;
  variadic: boolean;
}

export interface CommandModel {
  name: string;
  description: string;
  usage: string;
  arguments: ArgumentModel[];
  options: OptionModel[];
}

export interface ProgramModel {
  description: string;
  commands: CommandModel[];
  options: OptionModel[];
}

const HELP: OptionModel = { short: '-h', long: '--help', description: 'print the help of the command', repeatable: false };

export async function programModel(): Promise<ProgramModel> {
  const program = await buildProgram();
  return {
    description: PROGRAM_DESCRIPTION,
    commands: program.commands.map(commandModel),
    options: [...program.options.map(optionModel), HELP],
  };
}

function commandModel(cmd: Command): CommandModel {
  return {
    name: cmd.name(),
    description: cmd.description(),
    usage: cmd.usage(),
    arguments: cmd.registeredArguments.map((a) => ({ name: a.name(), description: a.description, required: a.required, variadic: a.variadic })),
    options: [...cmd.options.map(optionModel), HELP],
  };
}

function optionModel(o: Option): OptionModel {
  const value = /[<[]([^>\]]+)[>\]]/.exec(o.flags)?.[1];
  const listed = value !== undefined && /^[\w.-]+(\|[\w.-]+)+$/.test(value) ? value.split('|') : undefined;
  const defaultValue = o.defaultValue === undefined || typeof o.defaultValue === 'boolean' || (Array.isArray(o.defaultValue) && o.defaultValue.length === 0) ? undefined : String(o.defaultValue);
  const choices = o.argChoices ?? listed ?? (o.long === '--color' ? ['auto', 'always', 'never'] : undefined);
  return {
    short: o.short,
    long: o.long!,
    value,
    choices,
    description: o.description,
    default: defaultValue,
    repeatable: Array.isArray(o.defaultValue),
  };
}
