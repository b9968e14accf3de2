#!/usr/bin/env node
// `eddy`: the command for what kubectl does not do. Each subcommand is a module in cli/commands
// exporting `summary`, `usage` and `run(argv)`; adding one (tail, replay, deadletters) is one line
// in COMMANDS.
import { CommandError, EXIT, UsageError, version } from "./lib.mjs";

const COMMANDS = {
  kubeconfig: () => import("./commands/kubeconfig.mjs"),
  send: () => import("./commands/send.mjs"),
  tail: () => import("./commands/tail.mjs"),
  deadletters: () => import("./commands/deadletters.mjs"),
  replay: () => import("./commands/replay.mjs"),
};

async function help() {
  const lines = await Promise.all(Object.entries(COMMANDS).map(async ([name, load]) => `  ${name.padEnd(12)} ${(await load()).summary}`));
  return `eddy: the command-line companion of Eddy (Knative Eventing on Cloudflare Workers)

Usage: eddy <command> [flags]     eddy <command> --help     eddy --version

Commands:
${lines.join("\n")}

Every command names what it works on the same way, TARGET: broker:NAME, channel:NAME,
inmemorychannel:NAME (and, where it makes sense, trigger:NAME, sequence:NAME, parallel:NAME), or
kubectl's kind/NAME. Where Eddy is: --server URL, else $EDDY_SERVER, else Eddy on this machine
(https://127.0.0.1:8787, or http:// when it runs without --https). The admin token: --token, else
$EDDY_TOKEN, else ADMIN_TOKEN in .dev.vars. The namespace: -n, else $EDDY_NAMESPACE, else "default".

Exit codes: 0 done; 1 Eddy refused or failed the request (4xx, 5xx); 2 wrong command line;
3 Eddy could not be reached.
`;
}

async function main(argv) {
  const [name, ...rest] = argv;
  if (name === "--version" || name === "-v" || name === "version") {
    process.stdout.write(`eddy ${version()}\n`);
    return EXIT.OK;
  }
  if (!name || name === "--help" || name === "-h" || name === "help") {
    process.stdout.write(await help());
    return name ? EXIT.OK : EXIT.USAGE;
  }
  const load = COMMANDS[name];
  if (!load) {
    process.stderr.write(`eddy: unknown command "${name}"\n\n${await help()}`);
    return EXIT.USAGE;
  }
  const command = await load();
  if (rest.includes("--help") || rest.includes("-h")) {
    process.stdout.write(command.usage);
    return EXIT.OK;
  }
  try {
    return (await command.run(rest)) ?? EXIT.OK;
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`eddy ${name}: ${e.message}\n\n${command.usage}`);
      return EXIT.USAGE;
    }
    if (e instanceof CommandError) {
      process.stderr.write(`eddy ${name}: ${e.message}\n`);
      return e.code;
    }
    throw e;
  }
}

process.exitCode = await main(process.argv.slice(2));
